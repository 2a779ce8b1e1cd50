// Peer reads: whether a kernel on one device may read another device's buffers in place.
// The scheduler uses it to read a COPY's source directly (over NVLink, PCIe peer access, or
// shared host memory for the CPU devices) instead of copying it first. Part of the
// multi-device engine (engine/multi*.h).
#pragma once

#include <string>

namespace petabox {

// True when kernels on device `reader` can take buffers of device `owner` as arguments
// (Device::CanAccessPeer, which also sets the access up); always true for reader == owner.
// By canonical names; an unknown device gives false. Answers are cached. Thread-safe.
bool KernelsCanRead(const std::string& reader, const std::string& owner);

}  // namespace petabox
