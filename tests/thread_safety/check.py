#!/usr/bin/env python3
"""thread_safety_check: clang's -Wthread-safety over the annotated files (engine, devices, daemon).

Compiles (syntax only) every translation unit of build/compile_commands.json whose source
file or its header includes engine/util/thread_annotations.h, with clang++ and
-Wthread-safety -Werror=thread-safety; then compiles tests/thread_safety/violations.cc with
clang's -verify, which passes only when each deliberate violation there is reported where
its comment expects it (so a check that catches nothing fails too).

Usage: check.py --clang CLANG++ --build BUILD_DIR --source SOURCE_DIR [--jobs N]
Exit status 0 when everything is clean and the violations are all caught; 1 otherwise.
"""
import argparse
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys

MARKER = "engine/util/thread_annotations.h"
FLAGS = ["-fsyntax-only", "-Wthread-safety", "-Werror=thread-safety", "-Wno-unknown-warning-option",
         "-Wno-unused-command-line-argument"]


def uses_annotations(source):
    """True when `source` or the header beside it (same stem, .h) includes the marker."""
    for path in (source, os.path.splitext(source)[0] + ".h"):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                if MARKER in f.read():
                    return True
        except OSError:
            pass
    return False


def clang_command(entry, clang):
    """The entry's compile command, run by clang as a syntax-only thread-safety check."""
    args = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
    out = [clang]
    skip = False
    for arg in args[1:]:
        if skip:
            skip = False
            continue
        if arg == "-o":
            skip = True
            continue
        if arg == "-c" or arg.startswith("-W"):  # GCC's warning set is not the point here
            continue
        out.append(arg)
    return out + FLAGS


def run(command, cwd):
    result = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return result.returncode, result.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clang", default="")
    parser.add_argument("--build", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    if not args.clang or not os.access(args.clang, os.X_OK):
        print("thread_safety_check: clang++-15 not found (deploy/install-deps.sh installs clang-15)")
        return 1
    source = os.path.realpath(args.source)
    with open(os.path.join(args.build, "compile_commands.json")) as f:
        entries = json.load(f)
    tests_dir = os.path.join(source, "tests", "thread_safety") + os.sep  # violations.cc: checked below
    units = [e for e in entries
             if os.path.realpath(e["file"]).startswith(source + os.sep)
             and not os.path.realpath(e["file"]).startswith(tests_dir) and uses_annotations(e["file"])]
    if not units:
        print("thread_safety_check: no translation unit uses " + MARKER)
        return 1
    failures = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(run, clang_command(e, args.clang), e["directory"]): e["file"] for e in units}
        for future in concurrent.futures.as_completed(futures):
            rc, output = future.result()
            name = os.path.relpath(futures[future], source)
            print(("ok      " if rc == 0 else "FAILED  ") + name)
            if rc != 0:
                failures += 1
                print(output)
    violations = os.path.join(source, "tests", "thread_safety", "violations.cc")
    rc, output = run([args.clang, "-std=c++20", "-I" + source, "-Xclang", "-verify"] + FLAGS + [violations], source)
    print(("ok      " if rc == 0 else "FAILED  ") + "tests/thread_safety/violations.cc (every violation caught)")
    if rc != 0:
        failures += 1
        print(output)
    print("thread_safety_check: %d translation units checked, %d failed" % (len(units) + 1, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
