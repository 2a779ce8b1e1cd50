// Principal: who a call comes from, as the Authenticator decided: the box owner or one
// tenant. (A call without a valid token has no principal: it is refused before.)
//
// A plain value; thread-safe.
#pragma once

#include <string>

namespace petabox::daemon {

// The label of the box owner in jobs' and datasets' `tenant` fields, metrics and audit.
inline constexpr char kOwnerTenant[] = "owner";

struct Principal {
  std::string tenant;  // "" for the owner, else the tenant's name

  static Principal Owner() { return {}; }
  static Principal Tenant(std::string name) { return {std::move(name)}; }
  bool is_owner() const { return tenant.empty(); }
  // "owner" or the tenant's name: what resources record as their owner.
  std::string label() const { return is_owner() ? kOwnerTenant : tenant; }
  // True when this principal may see a resource owned by `owner_label` ("" counts as the
  // owner's: rows stored before tenants existed).
  bool Sees(const std::string& owner_label) const {
    return is_owner() || (owner_label == tenant && !tenant.empty());
  }
};

}  // namespace petabox::daemon
