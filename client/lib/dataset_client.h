// DatasetClient: DatasetService calls over a Connection (statuses as in
// client/lib/job_client.h).
//
// Thread-safe as the Connection is; the Connection must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "client/lib/connection.h"
#include "client/lib/upload.h"
#include "engine/util/status.h"
#include "petabox/v1/dataset.pb.h"

namespace petabox::client {

class DatasetClient {
 public:
  explicit DatasetClient(const Connection& connection) : connection_(connection) {}

  // Streams the plan: its header, then the files' bytes in 1 MiB messages
  // (ForEachUploadChunk); on_progress (may be empty) gets the bytes sent so far after each.
  // The daemon's status on failure (ALREADY_EXISTS, RESOURCE_EXHAUSTED, DATA_LOSS, ...);
  // a local read error cancels the call and is returned as is.
  StatusOr<v1::Dataset> Upload(const UploadPlan& plan, const std::function<void(int64_t)>& on_progress) const;
  StatusOr<v1::ListDatasetsResponse> ListDatasets() const;
  Status DeleteDataset(const std::string& name) const;

 private:
  const Connection& connection_;
};

}  // namespace petabox::client
