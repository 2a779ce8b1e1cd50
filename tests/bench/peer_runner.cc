#include "tests/bench/peer_runner.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>

#ifndef PETABOX_SOURCE_DIR
#error "PETABOX_SOURCE_DIR must name the source tree (set by tests/bench/CMakeLists.txt)"
#endif

namespace petabox::bench {
namespace {

// Single-quotes `s` for /bin/sh.
std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The value of "key": in a flat JSON object line: a number, or a string without escapes.
// peer.py writes exactly that shape, so a full JSON parser is not needed.
std::optional<std::string> JsonField(const std::string& line, const std::string& key) {
  size_t pos = line.find("\"" + key + "\":");
  if (pos == std::string::npos) return std::nullopt;
  pos = line.find_first_not_of(' ', pos + key.size() + 3);
  if (pos == std::string::npos) return std::nullopt;
  if (line[pos] == '"') {
    size_t end = line.find('"', pos + 1);
    if (end == std::string::npos) return std::nullopt;
    return line.substr(pos + 1, end - pos - 1);
  }
  size_t end = line.find_first_of(",}", pos);
  return line.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

std::optional<double> JsonNumber(const std::string& line, const std::string& key) {
  std::optional<std::string> v = JsonField(line, key);
  if (!v || *v == "null") return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(v->c_str(), &end);
  if (end == v->c_str()) return std::nullopt;
  return d;
}

}  // namespace

std::string FindPython() {
  if (access("/usr/bin/python3", X_OK) == 0) return "/usr/bin/python3";
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = (dir.empty() ? "." : dir) + "/python3";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

PeerResult RunPeer(const std::vector<std::string>& args) {
  PeerResult result;
  const std::string script = std::string(PETABOX_SOURCE_DIR) + "/tests/bench/peer.py";
  const std::string python = FindPython();
  if (python.empty()) {
    result.reason = "python3 not found";
    return result;
  }
  if (access(script.c_str(), R_OK) != 0) {
    result.reason = "peer script missing: " + script;
    return result;
  }
  std::string command = ShellQuote(python) + " " + ShellQuote(script);
  for (const std::string& a : args) command += " " + ShellQuote(a);
  command += " </dev/null";
  std::fflush(stdout);
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    result.reason = "could not start " + python;
    return result;
  }
  std::string last, line;
  char chunk[4096];
  while (std::fgets(chunk, sizeof(chunk), pipe) != nullptr) {
    line += chunk;
    if (!line.empty() && line.back() == '\n') {
      if (line.size() > 1 && line[0] == '{') last = line;
      line.clear();
    }
  }
  if (!line.empty() && line[0] == '{') last = line;
  int rc = pclose(pipe);
  if (std::optional<std::string> name = JsonField(last, "peer")) result.name = *name;
  if (std::optional<std::string> error = JsonField(last, "error")) {
    result.reason = *error;
    return result;
  }
  result.gflops = JsonNumber(last, "gflops");
  result.seconds = JsonNumber(last, "seconds");
  if (rc != 0 || !result.gflops || !result.seconds) {
    result.gflops.reset();
    result.seconds.reset();
    result.reason = "peer exited with status " + std::to_string(rc) + " without a result";
  }
  return result;
}

}  // namespace petabox::bench
