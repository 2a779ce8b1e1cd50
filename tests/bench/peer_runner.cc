#include "tests/bench/peer_runner.h"

#include "tests/bench/bench_util.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

#include "engine/util/thread_annotations.h"

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

// Interpreters to try, in order: PATH's python3s first (on the GPU machines that is the one
// with PyTorch and NumPy; Debian's /usr/bin/python3 there has neither), then the usual
// fixed places; duplicates removed.
std::vector<std::string> PythonCandidates() {
  std::vector<std::string> candidates;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) candidates.push_back((dir.empty() ? "." : dir) + "/python3");
  for (const char* fixed : {"/usr/bin/python3", "/usr/local/bin/python3", "/opt/torch/.venv/bin/python3"})
    candidates.push_back(fixed);
  std::vector<std::string> unique;
  for (const std::string& c : candidates)
    if (std::find(unique.begin(), unique.end(), c) == unique.end()) unique.push_back(c);
  return unique;
}

}  // namespace

std::string FindPython(const std::string& module) {
  // Probing imports each candidate's module (seconds for torch), so answers are kept.
  struct Found {
    Mutex mu;
    std::map<std::string, std::string> python GUARDED_BY(mu);  // by module
  };
  static Found* found = new Found();  // never destroyed
  MutexLock lock(found->mu);
  if (auto it = found->python.find(module); it != found->python.end()) return it->second;
  std::string& python = found->python[module];

  for (const std::string& candidate : PythonCandidates()) {
    if (access(candidate.c_str(), X_OK) != 0) continue;
    std::string probe = ShellQuote(candidate) + " -c " + ShellQuote("import " + module) + " </dev/null >/dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) return python = candidate;
  }
  return python;
}

namespace {

// The last JSON line a peer script printed, its exit status, and why it did not run.
struct PeerOutput {
  std::string line;    // empty when the script printed no JSON line
  int exit_status = 0;
  std::string reason;  // set when the script could not be started
};

// Runs `python3 <source dir>/tests/bench/<script> <args...>` with no stdin, with the first
// python3 that can import `module`.
PeerOutput RunScript(const std::string& script_name, const std::string& module, const std::vector<std::string>& args) {
  PeerOutput out;
  const std::string script = std::string(PETABOX_SOURCE_DIR) + "/tests/bench/" + script_name;
  const std::string python = FindPython(module);
  if (python.empty()) {
    out.reason = "no python3 that can import " + module + " (tried PATH, /usr/bin, /usr/local/bin, /opt/torch/.venv/bin)";
    return out;
  }
  if (access(script.c_str(), R_OK) != 0) {
    out.reason = "peer script missing: " + script;
    return out;
  }
  std::string command = ShellQuote(python) + " " + ShellQuote(script);
  for (const std::string& a : args) command += " " + ShellQuote(a);
  command += " </dev/null";
  std::fflush(stdout);
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    out.reason = "could not start " + python;
    return out;
  }
  std::string line;
  char chunk[4096];
  while (std::fgets(chunk, sizeof(chunk), pipe) != nullptr) {
    line += chunk;
    if (!line.empty() && line.back() == '\n') {
      if (line.size() > 1 && line[0] == '{') out.line = line;
      line.clear();
    }
  }
  if (!line.empty() && line[0] == '{') out.line = line;
  out.exit_status = pclose(pipe);
  return out;
}

}  // namespace

namespace {

// A JSON string member, or "" when absent or null.
std::string JsonString(const std::string& line, const std::string& key) {
  std::optional<std::string> v = JsonField(line, key);
  return v && *v != "null" ? *v : std::string();
}

// Fills `result`'s blas_* fields and ratio_refusal from peer.py's JSON line.
void ParseBlas(const std::string& line, PeerResult* result) {
  result->blas_version = JsonString(line, "blas_version");
  result->blas_core = JsonString(line, "blas_core");
  if (std::optional<double> t = JsonNumber(line, "blas_threads")) result->blas_threads = static_cast<int>(*t);
  result->blas_core_forced = JsonField(line, "blas_core_forced").value_or("") == "true";
  result->ratio_refusal = JsonString(line, "blas_refuse");
}

}  // namespace

std::string PeerBlasText(const PeerResult& peer) {
  if (peer.blas_core.empty()) return "";
  std::string text = (peer.blas_version.empty() ? std::string("BLAS") : peer.blas_version) + ", core " + peer.blas_core;
  if (peer.blas_core_forced) text += " (forced: OpenBLAS had fallen back to a generic core)";
  if (peer.blas_threads) text += ", " + std::to_string(*peer.blas_threads) + " threads";
  return text;
}

std::string PeerBlasJson(const PeerResult& peer) {
  auto str = [](const std::string& s) { return s.empty() ? std::string("null") : Quote(s); };
  std::optional<double> threads;
  if (peer.blas_threads) threads = *peer.blas_threads;
  return ",\"peer_blas\":" + str(peer.blas_version) + ",\"peer_blas_core\":" + str(peer.blas_core) +
         ",\"peer_blas_threads\":" + Num(threads) +
         ",\"peer_blas_core_forced\":" + (peer.blas_core.empty() ? "null" : peer.blas_core_forced ? "true" : "false");
}

std::optional<double> BlasRatio(double engine_gflops, const PeerResult& peer) {
  if (!peer.available() || !peer.gflops || *peer.gflops <= 0 || !peer.ratio_refusal.empty()) return std::nullopt;
  return engine_gflops / *peer.gflops;
}

std::string RatioError(const PeerResult& peer) {
  if (!peer.available()) return peer.reason.empty() ? "peer reported no result" : peer.reason;
  if (!peer.ratio_refusal.empty()) return "refused: " + peer.ratio_refusal;
  return "";
}

PeerResult RunPeerScript(const std::string& script, const std::string& module, const std::vector<std::string>& args) {
  PeerResult result;
  PeerOutput out = RunScript(script, module, args);
  if (!out.reason.empty()) {
    result.reason = out.reason;
    return result;
  }
  const std::string& last = out.line;
  result.json = last;
  if (std::optional<std::string> name = JsonField(last, "peer")) result.name = *name;
  if (std::optional<std::string> error = JsonField(last, "error")) {
    result.reason = *error;
    return result;
  }
  result.gflops = JsonNumber(last, "gflops");
  result.seconds = JsonNumber(last, "seconds");
  ParseBlas(last, &result);
  if (out.exit_status != 0 || !result.seconds) {
    result.gflops.reset();
    result.seconds.reset();
    result.reason = "peer exited with status " + std::to_string(out.exit_status) + " without a result";
  }
  return result;
}

PeerResult RunPeer(const std::vector<std::string>& args) { return RunPeerScript("peer.py", "numpy", args); }

PeerResult RunPeerForDevice(const std::string& device, const std::vector<std::string>& args) {
  if (device.rfind("CUDA:", 0) != 0) return RunPeer(args);
  std::vector<std::string> torch_args = args;
  torch_args.insert(torch_args.end(), {"--device", "cuda:" + device.substr(5)});
  PeerResult result = RunPeerScript("torch_gpu_peer.py", "torch", torch_args);
  if (result.name == "numpy") result.name = "torch-cuda";  // it printed no name (PeerResult's default is NumPy's)
  return result;
}

std::optional<double> PeerNumber(const PeerResult& peer, const std::string& key) { return JsonNumber(peer.json, key); }

std::optional<std::string> PeerString(const PeerResult& peer, const std::string& key) {
  return JsonField(peer.json, key);
}

TorchPeerResult RunTorchPeer(const std::vector<std::string>& args) {
  TorchPeerResult result;
  PeerOutput out = RunScript("torch_peer.py", "torch", args);
  if (!out.reason.empty()) {
    result.reason = out.reason;
    return result;
  }
  const std::string& last = out.line;
  if (std::optional<std::string> error = JsonField(last, "error")) {
    result.reason = *error;
    return result;
  }
  result.version = JsonField(last, "torch").value_or("");
  if (std::optional<double> t = JsonNumber(last, "threads")) result.threads = static_cast<int>(*t);
  result.seconds = JsonNumber(last, "seconds");
  result.total_seconds = JsonNumber(last, "total_seconds");
  result.samples_per_second = JsonNumber(last, "samples_per_second");
  result.first_loss = JsonNumber(last, "first_loss");
  result.last_loss = JsonNumber(last, "last_loss");
  if (out.exit_status != 0 || !result.samples_per_second || !result.seconds) {
    TorchPeerResult failed;
    failed.reason = "peer exited with status " + std::to_string(out.exit_status) + " without a result";
    return failed;
  }
  return result;
}

}  // namespace petabox::bench
