#include "daemon/store/dataset_names.h"

namespace petabox::daemon {
namespace {

constexpr char kDatasets[] = "datasets/";
constexpr char kTenants[] = "tenants/";

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

std::string TenantPrefix(const std::string& tenant) { return std::string(kTenants) + tenant + "/"; }

}  // namespace

std::string FullDatasetName(const std::string& name) {
  return StartsWith(name, kDatasets) || StartsWith(name, kTenants) ? name : kDatasets + name;
}

std::string DatasetKey(const Principal& who, const std::string& name) {
  const std::string full = FullDatasetName(name);
  if (who.is_owner()) return full;
  // A tenant's "tenants/..." is not a key of its own namespace: it names nothing it has.
  return TenantPrefix(who.tenant) + (StartsWith(full, kDatasets) ? full : kDatasets + full);
}

std::string DatasetNameFor(const Principal& who, const std::string& key) {
  if (who.is_owner()) return key;
  const std::string prefix = TenantPrefix(who.tenant);
  return StartsWith(key, prefix.c_str()) ? key.substr(prefix.size()) : key;
}

std::string DatasetRoot(const Principal& who, const std::string& data_dir) {
  return who.is_owner() ? data_dir + "/datasets" : data_dir + "/" + TenantPrefix(who.tenant) + "datasets";
}

}  // namespace petabox::daemon
