// Reading a server stream into a callback, shared by the clients' streaming calls.
// Internal to client/lib.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>

#include "client/lib/status_mapping.h"
#include "engine/util/status.h"

namespace petabox::client::internal {

// Calls on_message for each message until the stream ends. Returns the stream's final
// status (FromGrpcStatus), or on_message's first error, in which case the call is cancelled.
template <typename T>
Status DrainStream(grpc::ClientContext& context, grpc::ClientReader<T>& reader,
                   const std::function<Status(const T&)>& on_message) {
  T message;
  while (reader.Read(&message)) {
    Status status = on_message(message);
    if (!status.ok()) {
      context.TryCancel();
      reader.Finish();
      return status;
    }
  }
  return FromGrpcStatus(reader.Finish());
}

}  // namespace petabox::client::internal
