#include "client/lib/box_client.h"

#include "client/lib/status_mapping.h"
#include "client/lib/stream_util.h"

namespace petabox::client {

StatusOr<v1::Box> BoxClient::GetBox() const {
  v1::Box box;
  auto context = connection_.NewContext(CallKind::kUnary);
  grpc::Status status = connection_.box().GetBox(context.get(), v1::GetBoxRequest(), &box);
  if (!status.ok()) return FromGrpcStatus(status);
  return box;
}

Status BoxClient::WatchBox(const std::function<Status(const v1::Box&)>& on_box) const {
  auto context = connection_.NewContext(CallKind::kStream);
  auto reader = connection_.box().WatchBox(context.get(), v1::WatchBoxRequest());
  return internal::DrainStream(*context, *reader, on_box);
}

}  // namespace petabox::client
