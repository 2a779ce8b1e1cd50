#include "client/lib/dataset_client.h"

#include "client/lib/status_mapping.h"

namespace petabox::client {

StatusOr<v1::Dataset> DatasetClient::Upload(const UploadPlan& plan,
                                            const std::function<void(int64_t)>& on_progress) const {
  v1::Dataset dataset;
  auto context = connection_.NewContext(CallKind::kStream);
  auto writer = connection_.datasets().UploadDataset(context.get(), &dataset);
  bool stream_open = writer->Write(plan.header);
  int64_t sent = 0;
  v1::UploadDatasetRequest message;
  Status local = !stream_open ? Status::Ok() : ForEachUploadChunk(plan, kUploadChunkBytes, [&](std::string_view chunk) {
    message.set_data(chunk.data(), chunk.size());
    // A failed Write means the daemon closed the stream (it rejected the upload): stop
    // reading files; Finish below says why.
    if (!writer->Write(message)) {
      stream_open = false;
      return Unavailable("upload stream closed by the daemon");
    }
    sent += static_cast<int64_t>(chunk.size());
    if (on_progress) on_progress(sent);
    return Status::Ok();
  });
  if (!local.ok() && stream_open) {
    context->TryCancel();
    writer->Finish();
    return local;
  }
  if (stream_open) writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) return FromGrpcStatus(status);
  if (!stream_open) return Internal("the daemon ended the upload before all data arrived");
  return dataset;
}

StatusOr<v1::ListDatasetsResponse> DatasetClient::ListDatasets() const {
  v1::ListDatasetsResponse response;
  auto context = connection_.NewContext(CallKind::kUnary);
  grpc::Status status = connection_.datasets().ListDatasets(context.get(), v1::ListDatasetsRequest(), &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

Status DatasetClient::DeleteDataset(const std::string& name) const {
  v1::DeleteDatasetRequest request;
  request.set_name(name);
  v1::DeleteDatasetResponse response;
  auto context = connection_.NewContext(CallKind::kUnary);
  return FromGrpcStatus(connection_.datasets().DeleteDataset(context.get(), request, &response));
}

}  // namespace petabox::client
