#include "client/lib/names.h"

namespace petabox::client {
namespace {

constexpr std::string_view kJobsPrefix = "jobs/";
constexpr std::string_view kDatasetsPrefix = "datasets/";

std::string_view StripPrefix(std::string_view s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) == prefix) s.remove_prefix(prefix.size());
  return s;
}

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdChar(char c) { return IsLower(c) || IsDigit(c) || (c >= 'A' && c <= 'Z') || c == '-' || c == '_'; }

}  // namespace

StatusOr<std::string> NormalizeJobName(std::string_view name) {
  std::string_view id = StripPrefix(name, kJobsPrefix);
  if (id.empty()) return InvalidArgument("empty job name (expected j-... or jobs/j-...)");
  for (char c : id) {
    if (!IsIdChar(c)) return InvalidArgument("bad job name '" + std::string(name) + "' (expected j-... or jobs/j-...)");
  }
  return std::string(kJobsPrefix) + std::string(id);
}

std::string ShortJobName(std::string_view name) { return std::string(StripPrefix(name, kJobsPrefix)); }

StatusOr<std::string> NormalizeDatasetName(std::string_view name) {
  std::string_view id = StripPrefix(name, kDatasetsPrefix);
  bool ok = !id.empty() && id.size() <= 63 && IsLower(id.front());
  for (char c : id) ok = ok && (IsLower(c) || IsDigit(c) || c == '-');
  if (!ok) {
    return InvalidArgument("bad dataset name '" + std::string(name) +
                           "': 1..63 lowercase letters, digits and '-', starting with a letter");
  }
  return std::string(kDatasetsPrefix) + std::string(id);
}

}  // namespace petabox::client
