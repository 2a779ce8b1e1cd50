#include "daemon/service/dataset_service.h"

#include <filesystem>

#include <google/protobuf/util/time_util.h>

#include "daemon/service/status_mapping.h"
#include "daemon/store/dataset_files.h"
#include "daemon/store/dataset_names.h"

namespace petabox::daemon {
namespace {

// The id in a key ("x" of ".../datasets/x").
std::string DatasetId(const std::string& key) { return key.substr(key.rfind('/') + 1); }

int64_t DeclaredBytes(const v1::UploadDatasetRequest& header) {
  int64_t total = 0;
  for (const v1::DatasetFile& f : header.files()) total += std::max<int64_t>(0, f.size_bytes());
  return total;
}

}  // namespace

grpc::Status DatasetServiceImpl::UploadDataset(grpc::ServerContext* context,
                                               grpc::ServerReader<v1::UploadDatasetRequest>* reader,
                                               v1::Dataset* response) {
  const StatusOr<Principal> who = auth_->Authenticate(*context);
  std::string name;
  const Status result = who.ok() ? Upload(*who, context, reader, response, &name) : who.status();
  return audit_->Record(who, "UploadDataset", name, ToGrpcStatus(result));
}

Status DatasetServiceImpl::Upload(const Principal& who, grpc::ServerContext* context,
                                  grpc::ServerReader<v1::UploadDatasetRequest>* reader, v1::Dataset* response,
                                  std::string* name) {
  v1::UploadDatasetRequest message;
  if (!reader->Read(&message)) return InvalidArgument("empty upload: the first message needs name and files");
  *name = FullDatasetName(message.name());
  const std::string key = DatasetKey(who, message.name());
  if (store_->GetDataset(key).ok()) return AlreadyExists(*name + " already exists; delete it first");
  PB_RETURN_IF_ERROR(manager_->CheckStorageQuota(who.label(), DeclaredBytes(message)));
  const std::string root = DatasetRoot(who, data_dir_);
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) return Unavailable("cannot create the dataset directory: " + ec.message());
  PB_ASSIGN_OR_RETURN(auto upload, DatasetUpload::Begin(root, message, max_bytes_));
  do {
    PB_RETURN_IF_ERROR(upload->Write(message.data()));
  } while (reader->Read(&message));
  if (context->IsCancelled()) return Cancelled("the upload was cancelled; nothing was kept");
  MutexLock lock(mu_);
  PB_ASSIGN_OR_RETURN(v1::Dataset dataset, upload->Commit());
  *dataset.mutable_create_time() = google::protobuf::util::TimeUtil::GetCurrentTime();
  dataset.set_name(key);
  dataset.set_tenant(who.label());
  if (Status s = store_->AddDataset(dataset); !s.ok()) {
    (void)RemoveDatasetFiles(root, DatasetId(key));
    return s;
  }
  dataset.set_name(DatasetNameFor(who, key));
  *response = std::move(dataset);
  return Status::Ok();
}

grpc::Status DatasetServiceImpl::ListDatasets(grpc::ServerContext* context, const v1::ListDatasetsRequest*,
                                              v1::ListDatasetsResponse* response) {
  const StatusOr<Principal> who = auth_->Authenticate(*context);
  if (!who.ok()) return ToGrpcStatus(who.status());
  auto datasets = store_->ListDatasets(who->is_owner() ? "" : who->tenant);
  if (!datasets.ok()) return ToGrpcStatus(datasets.status());
  for (v1::Dataset& d : *datasets) {
    d.set_name(DatasetNameFor(*who, d.name()));
    *response->add_datasets() = std::move(d);
  }
  return grpc::Status::OK;
}

grpc::Status DatasetServiceImpl::DeleteDataset(grpc::ServerContext* context, const v1::DeleteDatasetRequest* request,
                                               v1::DeleteDatasetResponse*) {
  const StatusOr<Principal> who = auth_->Authenticate(*context);
  const Status result = who.ok() ? Delete(*who, request->name()) : who.status();
  return audit_->Record(who, "DeleteDataset", FullDatasetName(request->name()), ToGrpcStatus(result));
}

Status DatasetServiceImpl::Delete(const Principal& who, const std::string& name) {
  const std::string key = DatasetKey(who, name);
  MutexLock lock(mu_);
  auto dataset = store_->GetDataset(key);
  if (!dataset.ok() || !who.Sees(dataset->tenant().empty() ? kOwnerTenant : dataset->tenant())) {
    return NotFound(FullDatasetName(name) + " does not exist");
  }
  if (manager_->DatasetInUse(key)) {
    return FailedPrecondition(FullDatasetName(name) + " is used by a queued or running job; cancel it or wait");
  }
  PB_RETURN_IF_ERROR(store_->DeleteDataset(key));
  const Principal owner_of = dataset->tenant().empty() || dataset->tenant() == kOwnerTenant
                                 ? Principal::Owner()
                                 : Principal::Tenant(dataset->tenant());
  (void)RemoveDatasetFiles(DatasetRoot(owner_of, data_dir_), DatasetId(key));
  return Status::Ok();
}

}  // namespace petabox::daemon
