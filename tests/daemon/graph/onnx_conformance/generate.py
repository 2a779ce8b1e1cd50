#!/usr/bin/python3
"""Generates ONNX's backend node tests (model.onnx + test_data_set_0/{input,output}_*.pb
per case) from the installed onnx (Debian's python3-onnx 1.12) into OUTDIR/node/, and
OUTDIR/node/operators.tsv: each case and the operator it tests (its graph's last node; an
"_expanded" case, the function body of an operator, counts for that operator).

    generate.py OUTDIR

Runs onnx.backend.test.cmd_tools generate-data. onnx 1.12 still uses the NumPy aliases
that NumPy 1.24 removed (np.float, np.int, np.bool, np.object), so they are restored
first, with the builtins they used to name.
"""
import builtins
import os
import sys

import numpy as np

for alias in ("float", "int", "bool", "object"):
    if alias not in np.__dict__:
        setattr(np, alias, getattr(builtins, alias))

from onnx.backend.test import cmd_tools  # noqa: E402 (needs the aliases)


import onnx  # noqa: E402


def operator_of(node_dir, case):
    base = case[: -len("_expanded")] if case.endswith("_expanded") else case
    if not os.path.isdir(os.path.join(node_dir, base)):
        base = case
    model = onnx.load(os.path.join(node_dir, base, "model.onnx"))
    return model.graph.node[-1].op_type if model.graph.node else "(none)"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    sys.argv = [sys.argv[0], "generate-data", "-o", out]
    cmd_tools.main()
    node_dir = os.path.join(out, "node")
    cases = sorted(c for c in os.listdir(node_dir) if os.path.isdir(os.path.join(node_dir, c)))
    with open(os.path.join(node_dir, "operators.tsv"), "w") as f:
        for case in cases:
            f.write(f"{case}\t{operator_of(node_dir, case)}\n")


if __name__ == "__main__":
    main()
