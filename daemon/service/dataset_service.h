// petabox.v1.DatasetService: uploads into the caller's dataset directory (DATA_DIR/datasets
// for the owner, DATA_DIR/tenants/{tenant}/datasets for a tenant: daemon/store/
// dataset_names.h) recorded in the JobStore. A tenant sees only its own datasets; its
// uploads count against its storage quota. Uploads and deletes are written to the audit
// log. A thin adapter.
//
// Thread-safe: gRPC calls it from its thread pool.
#pragma once

#include <string>

#include "daemon/auth/authenticator.h"
#include "daemon/jobs/job_manager.h"
#include "daemon/service/audit_log.h"
#include "daemon/store/job_store.h"
#include "engine/util/thread_annotations.h"
#include "petabox/v1/dataset.grpc.pb.h"

namespace petabox::daemon {

class DatasetServiceImpl final : public v1::DatasetService::Service {
 public:
  // `data_dir`: the daemon's data directory.
  DatasetServiceImpl(JobStore* store, JobManager* manager, const Authenticator* auth, const AuditLog* audit,
                     std::string data_dir, int64_t max_bytes)
      : store_(store), manager_(manager), auth_(auth), audit_(audit), data_dir_(std::move(data_dir)),
        max_bytes_(max_bytes) {}

  grpc::Status UploadDataset(grpc::ServerContext* context, grpc::ServerReader<v1::UploadDatasetRequest>* reader,
                             v1::Dataset* response) override;
  grpc::Status ListDatasets(grpc::ServerContext* context, const v1::ListDatasetsRequest* request,
                            v1::ListDatasetsResponse* response) override;
  grpc::Status DeleteDataset(grpc::ServerContext* context, const v1::DeleteDatasetRequest* request,
                             v1::DeleteDatasetResponse* response) override;

 private:
  // `*name` gets the name the first message gave (for the audit log).
  Status Upload(const Principal& who, grpc::ServerContext* context, grpc::ServerReader<v1::UploadDatasetRequest>* reader,
                v1::Dataset* response, std::string* name);
  Status Delete(const Principal& who, const std::string& name);

  JobStore* const store_;
  JobManager* const manager_;
  const Authenticator* const auth_;
  const AuditLog* const audit_;
  const std::string data_dir_;
  const int64_t max_bytes_;
  Mutex mu_;  // orders the commit of an upload against deletes of the same name
};

}  // namespace petabox::daemon
