#include "daemon/service/dataset_service.h"

#include <google/protobuf/util/time_util.h>

#include "daemon/service/status_mapping.h"
#include "daemon/store/dataset_files.h"

namespace petabox::daemon {
namespace {

// "datasets/x" for "x" or "datasets/x".
std::string FullName(const std::string& name) {
  return name.rfind("datasets/", 0) == 0 ? name : "datasets/" + name;
}

}  // namespace

grpc::Status DatasetServiceImpl::UploadDataset(grpc::ServerContext* context,
                                               grpc::ServerReader<v1::UploadDatasetRequest>* reader,
                                               v1::Dataset* response) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  v1::UploadDatasetRequest message;
  if (!reader->Read(&message)) return ToGrpcStatus(InvalidArgument("empty upload: the first message needs name and files"));
  const std::string name = FullName(message.name());
  if (store_->GetDataset(name).ok()) return ToGrpcStatus(AlreadyExists(name + " already exists; delete it first"));
  auto upload = DatasetUpload::Begin(root_, message, max_bytes_);
  if (!upload.ok()) return ToGrpcStatus(upload.status());
  do {
    if (Status s = (*upload)->Write(message.data()); !s.ok()) return ToGrpcStatus(s);
  } while (reader->Read(&message));
  if (context->IsCancelled()) return ToGrpcStatus(Cancelled("the upload was cancelled; nothing was kept"));
  MutexLock lock(mu_);
  auto dataset = (*upload)->Commit();
  if (!dataset.ok()) return ToGrpcStatus(dataset.status());
  *dataset->mutable_create_time() = google::protobuf::util::TimeUtil::GetCurrentTime();
  if (Status s = store_->AddDataset(*dataset); !s.ok()) {
    (void)RemoveDatasetFiles(root_, name.substr(9));
    return ToGrpcStatus(s);
  }
  *response = std::move(*dataset);
  return grpc::Status::OK;
}

grpc::Status DatasetServiceImpl::ListDatasets(grpc::ServerContext* context, const v1::ListDatasetsRequest*,
                                              v1::ListDatasetsResponse* response) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  auto datasets = store_->ListDatasets();
  if (!datasets.ok()) return ToGrpcStatus(datasets.status());
  for (v1::Dataset& d : *datasets) *response->add_datasets() = std::move(d);
  return grpc::Status::OK;
}

grpc::Status DatasetServiceImpl::DeleteDataset(grpc::ServerContext* context, const v1::DeleteDatasetRequest* request,
                                               v1::DeleteDatasetResponse*) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  const std::string name = FullName(request->name());
  MutexLock lock(mu_);
  if (!store_->GetDataset(name).ok()) return ToGrpcStatus(NotFound(name + " does not exist"));
  if (manager_->DatasetInUse(name)) {
    return ToGrpcStatus(FailedPrecondition(name + " is used by a queued or running job; cancel it or wait"));
  }
  if (Status s = store_->DeleteDataset(name); !s.ok()) return ToGrpcStatus(s);
  (void)RemoveDatasetFiles(root_, name.substr(9));
  return grpc::Status::OK;
}

}  // namespace petabox::daemon
