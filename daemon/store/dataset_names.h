// Each tenant's datasets live in their own namespace: the dataset a tenant calls
// "datasets/{id}" is stored (in the job store, under DATA_DIR) as
// "tenants/{tenant}/datasets/{id}", so tenants never see, collide with or learn of each
// other's datasets. The owner's are "datasets/{id}" as before, and the owner names a
// tenant's dataset by its stored key.
//
// Thread-safe (no state).
#pragma once

#include <string>

#include "daemon/auth/principal.h"

namespace petabox::daemon {

// "datasets/x" for "x" or "datasets/x"; a "tenants/..." key is kept as it is.
std::string FullDatasetName(const std::string& name);
// The stored key of the dataset `who` calls `name` ("x", "datasets/x", or for the owner a
// tenant's key "tenants/t/datasets/x").
std::string DatasetKey(const Principal& who, const std::string& name);
// The name `who` sees for a stored key: a tenant its own "datasets/{id}", the owner the key.
std::string DatasetNameFor(const Principal& who, const std::string& key);
// Where `who`'s uploads go: DATA_DIR/datasets, or DATA_DIR/tenants/{tenant}/datasets.
std::string DatasetRoot(const Principal& who, const std::string& data_dir);

}  // namespace petabox::daemon
