#include "client/lib/box_client.h"

#include "client/lib/status_mapping.h"

namespace petabox::client {

StatusOr<v1::Box> BoxClient::GetBox() const {
  v1::Box box;
  auto context = connection_.NewContext(CallKind::kUnary);
  grpc::Status status = connection_.box().GetBox(context.get(), v1::GetBoxRequest(), &box);
  if (!status.ok()) return FromGrpcStatus(status);
  return box;
}

}  // namespace petabox::client
