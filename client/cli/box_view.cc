#include "client/cli/box_view.h"

#include <algorithm>

#include "client/cli/format.h"
#include "client/cli/progress.h"

namespace petabox::cli {

Table DevicesTable(const v1::Box& box) {
  Table table({"NAME", "KIND", "DESCRIPTION", "MEMORY", "STATE", "JOB"});
  table.AlignRight(3);
  for (const v1::Device& device : box.devices()) {
    std::string state = device.state() == v1::Device::STATE_UNSPECIFIED ? "-" : v1::Device::State_Name(device.state());
    table.AddRow({device.name(), device.kind(), device.description(),
                  device.memory_total_bytes() > 0 ? FormatBytes(device.memory_total_bytes()) : "-", state,
                  device.job().empty() ? "-" : device.job()});
  }
  return table;
}

std::string RenderBox(const v1::Box& box) {
  std::string out = box.devices_size() > 0 ? DevicesTable(box).Render() : "No devices.\n";
  out += "\nQueue:   " + std::to_string(box.queue_length()) + " queued, " + std::to_string(box.running_jobs()) +
         " running\n";
  out += "Daemon:  petaboxd " + (box.daemon_version().empty() ? std::string("(version unknown)") : box.daemon_version()) +
         "\n";
  if (box.draining()) out += "Draining: the daemon is shutting down; no new jobs start\n";
  return out;
}

Table DatasetsTable(const v1::ListDatasetsResponse& datasets, const google::protobuf::Timestamp& now) {
  Table table({"NAME", "FILES", "SIZE", "CREATED"});
  table.AlignRight(1);
  table.AlignRight(2);
  for (const v1::Dataset& dataset : datasets.datasets()) {
    table.AddRow({dataset.name(), std::to_string(dataset.files_size()), FormatBytes(dataset.total_bytes()),
                  FormatAge(dataset.create_time(), now) + (dataset.has_create_time() ? " ago" : "")});
  }
  return table;
}

std::string RenderTransfer(int64_t done, int64_t total, int width) {
  double fraction = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  std::string text = FormatBytes(done) + " / " + FormatBytes(total) + "  " +
                     std::to_string(static_cast<int>(std::clamp(fraction, 0.0, 1.0) * 100)) + "%";
  int bar = std::min(40, width - 2 - static_cast<int>(text.size()));
  return bar >= 10 ? RenderBar(fraction, bar) + " " + text : text;
}

}  // namespace petabox::cli
