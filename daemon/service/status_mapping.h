// The one place a petabox::Status becomes a grpc::Status (the codes map one to one).
#pragma once

#include <grpcpp/support/status.h>

#include "engine/util/status.h"

namespace petabox::daemon {

grpc::Status ToGrpcStatus(const Status& status);

}  // namespace petabox::daemon
