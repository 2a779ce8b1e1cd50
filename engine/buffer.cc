#include "engine/buffer.h"

#include <algorithm>

namespace petabox {

StatusOr<std::shared_ptr<Buffer>> Buffer::Allocate(Device* device, DType dtype, int64_t size) {
  size_t bytes = std::max<size_t>(1, static_cast<size_t>(size) * ItemSize(dtype));
  PB_ASSIGN_OR_RETURN(void* data, device->allocator().Alloc(bytes));
  return std::shared_ptr<Buffer>(new Buffer(device, dtype, size, data));
}

Buffer::~Buffer() { device_->allocator().Free(data_, std::max<size_t>(1, bytes())); }

Status Buffer::CopyIn(const void* host, size_t n) {
  if (n != bytes()) return InvalidArgument("copy of " + std::to_string(n) + " bytes into a buffer of " + std::to_string(bytes()));
  BumpVersion();
  return device_->allocator().CopyIn(data_, host, n);
}

Status Buffer::CopyOut(void* host, size_t n) const {
  if (n != bytes()) return InvalidArgument("copy of " + std::to_string(n) + " bytes out of a buffer of " + std::to_string(bytes()));
  return device_->allocator().CopyOut(host, data_, n);
}

}  // namespace petabox
