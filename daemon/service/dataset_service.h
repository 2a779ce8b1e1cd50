// petabox.v1.DatasetService: uploads into DATA_DIR/datasets (daemon/store/dataset_files.h)
// recorded in the JobStore. A thin adapter.
//
// Thread-safe: gRPC calls it from its thread pool.
#pragma once

#include <string>

#include "daemon/auth/authenticator.h"
#include "daemon/jobs/job_manager.h"
#include "daemon/store/job_store.h"
#include "engine/util/thread_annotations.h"
#include "petabox/v1/dataset.grpc.pb.h"

namespace petabox::daemon {

class DatasetServiceImpl final : public v1::DatasetService::Service {
 public:
  DatasetServiceImpl(JobStore* store, JobManager* manager, const Authenticator* auth, std::string root,
                     int64_t max_bytes)
      : store_(store), manager_(manager), auth_(auth), root_(std::move(root)), max_bytes_(max_bytes) {}

  grpc::Status UploadDataset(grpc::ServerContext* context, grpc::ServerReader<v1::UploadDatasetRequest>* reader,
                             v1::Dataset* response) override;
  grpc::Status ListDatasets(grpc::ServerContext* context, const v1::ListDatasetsRequest* request,
                            v1::ListDatasetsResponse* response) override;
  grpc::Status DeleteDataset(grpc::ServerContext* context, const v1::DeleteDatasetRequest* request,
                             v1::DeleteDatasetResponse* response) override;

 private:
  JobStore* const store_;
  JobManager* const manager_;
  const Authenticator* const auth_;
  const std::string root_;  // DATA_DIR/datasets
  const int64_t max_bytes_;
  Mutex mu_;  // orders the commit of an upload against deletes of the same name
};

}  // namespace petabox::daemon
