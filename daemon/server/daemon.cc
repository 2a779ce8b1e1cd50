#include "daemon/server/daemon.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "daemon/auth/authenticator.h"
#include "daemon/auth/token.h"
#include "daemon/http/http_server.h"
#include "daemon/http/status_endpoints.h"
#include "daemon/jobs/job_manager.h"
#include "daemon/metrics/box_metrics.h"
#include "daemon/server/cleanup.h"
#include "daemon/server/sd_notify.h"
#include "daemon/service/admin_service.h"
#include "daemon/service/audit_log.h"
#include "daemon/service/box_service.h"
#include "daemon/service/dataset_service.h"
#include "daemon/service/job_service.h"
#include "daemon/store/dataset_files.h"
#include "daemon/store/job_store.h"
#include "daemon/telemetry/clock.h"
#include "daemon/telemetry/sampler.h"
#include "daemon/telemetry/usage_ledger.h"
#include "devices/registry.h"
#include "devices/telemetry/telemetry.h"

namespace petabox::daemon {

namespace fs = std::filesystem;

// Members are destroyed in reverse order: what uses another part is declared after it.
struct Daemon::Parts {
  DaemonConfig config;
  boost::asio::io_context io;
  std::unique_ptr<JobStore> store;
  std::unique_ptr<Authenticator> auth;
  std::unique_ptr<AuditLog> audit;
  std::vector<v1::Device> devices;
  // Telemetry (daemon/telemetry, daemon/metrics, daemon/http): the sampler's timer and the
  // HTTP server run on their own loop and thread, so a slow driver query or a scrape never
  // delays the JobManager's loop.
  SystemClock clock;
  boost::asio::io_context telemetry_io;
  std::unique_ptr<UsageLedger> ledger;
  std::unique_ptr<TelemetrySampler> sampler;  // null: telemetry.interval_seconds is 0
  std::unique_ptr<BoxMetrics> metrics;
  std::unique_ptr<JobManager> manager;
  std::unique_ptr<JobServiceImpl> job_service;
  std::unique_ptr<DatasetServiceImpl> dataset_service;
  std::unique_ptr<BoxServiceImpl> box_service;
  std::unique_ptr<AdminServiceImpl> admin_service;
  std::unique_ptr<HttpServer> http;
};

namespace {

// The configured devices, or every GPU, or CPU:0; each described for GetBox.
StatusOr<std::vector<v1::Device>> ResolveDevices(const std::vector<std::string>& configured) {
  DeviceRegistry& registry = DeviceRegistry::Global();
  std::vector<std::string> names = configured;
  if (names.empty()) {
    for (const std::string& n : registry.Available()) {
      if (n.rfind("CPU", 0) != 0) names.push_back(n);
    }
    if (names.empty()) names.push_back("CPU:0");
  }
  std::vector<v1::Device> devices;
  for (size_t i = 0; i < names.size(); ++i) {
    auto device = registry.Get(names[i]);
    if (!device.ok()) return InvalidArgument("devices[" + std::to_string(i) + "]: " + device.status().message());
    const DeviceProperties& p = (*device)->properties();
    v1::Device d;
    d.set_name(p.name);
    d.set_kind(p.kind == "CPU" ? "cpu" : p.kind == "CUDA" ? "cuda" : "hip");
    d.set_description(p.kind + " " + p.arch + ", " + std::to_string(p.compute_units) +
                      (p.kind == "CPU" ? " threads" : " compute units"));
    d.set_memory_total_bytes(p.memory_bytes);
    devices.push_back(std::move(d));
  }
  return devices;
}

// Each device's telemetry source. The virtual CPU devices share one (the host's RAPL
// packages), so the sampler reads it once and does not count the package once per device.
std::vector<SamplerDevice> TelemetrySources(const std::vector<v1::Device>& devices) {
  std::vector<SamplerDevice> out;
  std::shared_ptr<DeviceTelemetry> host_cpu;
  for (const v1::Device& d : devices) {
    SamplerDevice s{d.name(), d.memory_total_bytes(), nullptr};
    const size_t colon = d.name().find(':');
    const int index = colon == std::string::npos ? 0 : std::atoi(d.name().c_str() + colon + 1);
    bool opened = true;
    if (d.kind() == "cpu") {
      opened = !host_cpu;
      if (!host_cpu) host_cpu = OpenDeviceTelemetry("CPU", 0);
      s.telemetry = host_cpu;
    } else {
      s.telemetry = OpenDeviceTelemetry(d.kind() == "cuda" ? "CUDA" : "HIP", index);
    }
    // Say once why a device has no power or temperature readings (they stay absent).
    if (auto* none = dynamic_cast<NoTelemetry*>(s.telemetry.get()); none && opened) {
      std::fprintf(stderr, "petaboxd: %s: no power, energy or temperature readings: %s\n", d.name().c_str(),
                   none->why().c_str());
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<DeviceInfo> MetricsDevices(const std::vector<v1::Device>& devices) {
  std::vector<DeviceInfo> info;
  for (const v1::Device& d : devices) info.push_back({d.name(), d.kind(), d.description()});
  return info;
}

// A ledger of the box's devices that knows the jobs queued already.
StatusOr<std::unique_ptr<UsageLedger>> MakeLedger(const std::vector<v1::Device>& devices, const JobStore& store,
                                                  const Clock* clock) {
  std::vector<std::string> names;
  for (const v1::Device& d : devices) names.push_back(d.name());
  auto ledger = std::make_unique<UsageLedger>(names, clock);
  PB_ASSIGN_OR_RETURN(std::vector<v1::Job> queued, store.JobsInStates({v1::Job::QUEUED}));
  for (const v1::Job& job : queued) ledger->OnJobState(job);
  return ledger;
}

// config.workers.binary, or petabox-worker beside this executable.
StatusOr<std::string> WorkerBinary(const std::string& configured) {
  std::string path = configured;
  if (path.empty()) {
    std::error_code ec;
    path = (fs::read_symlink("/proc/self/exe", ec).parent_path() / "petabox-worker").string();
  }
  if (::access(path.c_str(), X_OK) != 0) return NotFound("workers.binary: cannot execute '" + path + "'");
  return path;
}

Status MakeDataDir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir + "/datasets", ec);
  if (ec) return Unavailable("data_dir: cannot create " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  return Status::Ok();
}

}  // namespace

Daemon::Daemon(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
Daemon::~Daemon() = default;

StatusOr<std::unique_ptr<Daemon>> Daemon::Create(const DaemonConfig& config) {
  auto p = std::make_unique<Parts>();
  p->config = config;
  if (p->config.data_dir.empty()) p->config.data_dir = DefaultDataDir();
  const std::string& dir = p->config.data_dir;
  PB_RETURN_IF_ERROR(MakeDataDir(dir));
  RemoveStaleUploads(dir + "/datasets");
  PB_ASSIGN_OR_RETURN(p->store, JobStore::Open(dir + "/petabox.db"));
  PB_ASSIGN_OR_RETURN(std::string token, LoadOrCreateOwnerToken(dir));
  p->auth = std::make_unique<Authenticator>(token, p->store.get());
  p->audit = std::make_unique<AuditLog>(p->store.get());
  PB_ASSIGN_OR_RETURN(p->devices, ResolveDevices(config.devices));
  PB_ASSIGN_OR_RETURN(p->ledger, MakeLedger(p->devices, *p->store, &p->clock));
  if (config.telemetry.interval_seconds > 0) {
    p->sampler = std::make_unique<TelemetrySampler>(TelemetrySources(p->devices), p->ledger.get(), &p->clock,
                                                    static_cast<size_t>(config.telemetry.history_samples));
  }
  p->metrics = std::make_unique<BoxMetrics>(MetricsDevices(p->devices), p->sampler.get(), p->ledger.get());
  JobManagerOptions options;
  options.data_dir = dir;
  for (const v1::Device& d : p->devices) options.devices.push_back(d.name());
  options.dataset_dirs = config.dataset_dirs;
  PB_ASSIGN_OR_RETURN(options.worker_binary, WorkerBinary(config.workers.binary));
  if (!std::getenv("PETABOX_CACHE_DIR")) options.worker_env.push_back("PETABOX_CACHE_DIR=" + dir + "/kernel-cache");
  options.stop_grace = std::chrono::milliseconds(static_cast<int64_t>(config.workers.stop_grace_seconds * 1000));
  options.default_checkpoint_interval = config.workers.checkpoint_interval_steps;
  options.max_queued_jobs = config.limits.max_queued_jobs;
  options.max_spec_bytes = config.limits.max_spec_bytes;
  options.max_graph_bytes = config.limits.max_graph_bytes;
  options.usage = p->ledger.get();
  // Workers report twice per sample, so every sample sees fresh kernel counts.
  if (config.telemetry.interval_seconds > 0) {
    options.usage_interval_seconds = std::max(0.05, config.telemetry.interval_seconds / 2);
  }
  p->manager = std::make_unique<JobManager>(p->io, p->store.get(), options);
  p->job_service = std::make_unique<JobServiceImpl>(p->manager.get(), p->store.get(), p->auth.get(), p->audit.get());
  p->dataset_service = std::make_unique<DatasetServiceImpl>(p->store.get(), p->manager.get(), p->auth.get(),
                                                            p->audit.get(), dir, config.limits.max_dataset_bytes);
  p->admin_service = std::make_unique<AdminServiceImpl>(p->store.get(), p->auth.get(), p->audit.get());
  p->box_service = std::make_unique<BoxServiceImpl>(p->manager.get(), p->auth.get(), p->devices,
                                                    BoxTelemetry{p->sampler.get(), p->ledger.get()});
  return std::unique_ptr<Daemon>(new Daemon(std::move(p)));
}

namespace {

StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(const TlsConfig& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  auto read = [](const std::string& path) -> StatusOr<std::string> {
    std::ifstream in(path);
    if (!in) return NotFound("tls: cannot read " + path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  grpc::SslServerCredentialsOptions options;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  PB_ASSIGN_OR_RETURN(pair.cert_chain, read(tls.cert));
  PB_ASSIGN_OR_RETURN(pair.private_key, read(tls.key));
  options.pem_key_cert_pairs.push_back(pair);
  return grpc::SslServerCredentials(options);
}

// A started gRPC server and the port it got.
struct GrpcServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

// Builds and starts the gRPC server with `services`; Unavailable when `config.listen`
// cannot be bound, NotFound when a TLS file cannot be read.
StatusOr<GrpcServer> StartGrpc(const DaemonConfig& config, const std::vector<grpc::Service*>& services) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  PB_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials, Credentials(config.tls));
  grpc::ServerBuilder builder;
  GrpcServer out;
  builder.AddListeningPort(config.listen, credentials, &out.port);
  for (grpc::Service* service : services) builder.RegisterService(service);
  // A CreateJob carries the spec and the graph; JobManager gives the clearer error for
  // either one over its limit, so gRPC's own limit leaves room for both.
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(config.limits.max_graph_bytes + config.limits.max_spec_bytes + (4 << 20)));
  out.server = builder.BuildAndStart();
  if (!out.server || out.port == 0) {
    return Unavailable("listen: cannot serve gRPC on " + config.listen + " (address in use, or not local?)");
  }
  return out;
}

}  // namespace

Status Daemon::Run() {
  PB_RETURN_IF_ERROR(Serve());
  std::fprintf(stderr, "petaboxd: stopped\n");
  return Status::Ok();
}

// Telemetry and HTTP run on their own loop, whose thread starts in Serve; a bad http_listen
// stops the start. Unavailable when http_listen cannot be bound.
Status Daemon::StartTelemetry() {
  Parts& p = *parts_;
  if (p.sampler) p.sampler->Start(p.telemetry_io, p.config.telemetry.interval_seconds);
  if (p.config.http_listen.empty()) return Status::Ok();
  StatusSources sources{MetricsDevices(p.devices), p.sampler.get(), p.ledger.get(), p.metrics.get(), p.store.get(),
                        &p.clock, [manager = p.manager.get()] { return manager->draining(); }};
  PB_ASSIGN_OR_RETURN(p.http, HttpServer::Start(p.telemetry_io, p.config.http_listen, StatusRoutes(std::move(sources))));
  return Status::Ok();
}

// Each piece that starts is followed by the Cleanup that stops it, so whichever way this
// returns, the started pieces stop once, in reverse order: telemetry (which also ends
// WatchBox waits), then the gRPC server, then the JobManager's loop.
Status Daemon::Serve() {
  Parts& p = *parts_;
  // Declared before the loop starts, so both outlive the loop's thread.
  boost::asio::signal_set signals(p.io, SIGTERM, SIGINT);
  std::promise<void> drained;
  auto work = boost::asio::make_work_guard(p.io);
  std::thread loop([&p] { p.io.run(); });
  Cleanup stop_loop([&] {
    work.reset();
    p.io.stop();
    loop.join();
  });
  PB_RETURN_IF_ERROR(p.manager->Recover());
  PB_RETURN_IF_ERROR(StartTelemetry());
  const std::vector<grpc::Service*> services = {p.job_service.get(), p.dataset_service.get(), p.box_service.get(),
                                                p.admin_service.get()};
  PB_ASSIGN_OR_RETURN(GrpcServer rpc, StartGrpc(p.config, services));
  Cleanup stop_rpc([&] { rpc.server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5)); });
  std::thread telemetry([&p] { p.telemetry_io.run(); });
  Cleanup stop_telemetry([&] {
    boost::asio::post(p.telemetry_io, [&p] {
      if (p.sampler) p.sampler->Stop();  // also ends WatchBox waits
      if (p.http) p.http->Stop();
      p.telemetry_io.stop();
    });
    telemetry.join();
  });
  LogServing(rpc.port);
  Notify("READY=1\nSTATUS=serving on " + p.config.listen);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    std::fprintf(stderr, "petaboxd: signal %d: draining (workers checkpoint and stop)\n", signal);
    Notify("STOPPING=1\nSTATUS=draining: running jobs checkpoint and stop");
    rpc.server->GetHealthCheckService()->SetServingStatus(false);
    p.manager->Drain([&drained] { drained.set_value(); });
  });
  drained.get_future().wait();
  p.manager->Shutdown();
  return Status::Ok();
}

// Readiness for systemd (Type=notify); a failure is logged, never fatal.
void Daemon::Notify(const std::string& state) const {
  Status s = NotifySystemd(state);
  if (!s.ok()) std::fprintf(stderr, "petaboxd: warning: %s\n", s.ToString().c_str());
}

void Daemon::LogServing(int grpc_port) const {
  const Parts& p = *parts_;
  std::fprintf(stderr, "petaboxd %s: serving on %s (port %d), data in %s, %zu device(s)\n", PETABOX_VERSION,
               p.config.listen.c_str(), grpc_port, p.config.data_dir.c_str(), p.devices.size());
  if (p.http) {
    std::fprintf(stderr, "petaboxd: metrics, status page and /api/box on http://%s (port %d); telemetry every %g s\n",
                 p.config.http_listen.c_str(), p.http->port(), p.config.telemetry.interval_seconds);
  }
}

}  // namespace petabox::daemon
