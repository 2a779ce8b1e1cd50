#include "client/lib/retry.h"

#include <random>

#include "client/lib/status_mapping.h"

namespace petabox::client {

bool IsRetryable(const Status& status) {
  grpc::StatusCode code = GrpcCodeOf(status);
  return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED;
}

std::string NewRequestId() {
  std::random_device device;
  std::uniform_int_distribution<int> digit(0, 15);
  std::string id;
  for (int i = 0; i < 32; ++i) id += "0123456789abcdef"[digit(device)];
  return id;
}

}  // namespace petabox::client
