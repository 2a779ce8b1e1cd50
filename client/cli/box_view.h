// Views of the box and its datasets for people. Pure functions.
#pragma once

#include <google/protobuf/timestamp.pb.h>

#include <string>

#include "client/cli/table.h"
#include "petabox/v1/box.pb.h"
#include "petabox/v1/dataset.pb.h"

namespace petabox::cli {

// Columns NAME, KIND, DESCRIPTION, MEMORY, STATE, JOB; one row per device.
Table DevicesTable(const v1::Box& box);
// Live telemetry, one row per device: NAME, BUSY (%), TFLOP/S (achieved), W, GFLOPS/W,
// MEMORY (used / total: the device's own reading, else what the job's engine holds), TEMP,
// JOB. "-" marks a reading the device cannot give; a device whose power is read with
// others' (virtual CPU devices share the host's package) shows "(CPU:0)" under W.
Table TelemetryTable(const v1::Box& box);
// The telemetry table when the box samples its devices (else the devices table), then
// "Queue: 2 queued, 1 running", "Daemon: 0.1.0", the tenants' metered use when there is
// any, and a line when the daemon drains.
std::string RenderBox(const v1::Box& box);
// Columns NAME, FILES, SIZE, CREATED; one row per dataset.
Table DatasetsTable(const v1::ListDatasetsResponse& datasets, const google::protobuf::Timestamp& now);
// "[=====>    ] 12.0 MiB / 30.0 MiB  40%": an upload's or download's progress.
std::string RenderTransfer(int64_t done, int64_t total, int width);

}  // namespace petabox::cli
