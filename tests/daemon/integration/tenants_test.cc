// Tenants against a real petaboxd: every RPC and HTTP endpoint called as the owner, tenant
// A, tenant B, without a token, with a revoked tenant's token and with a wrong token, each
// cell with its expected code (one daemon for the whole table); a revoked tenant's open
// watch ends; each quota refused at its limit; the audit log. Jobs run a stand-in worker
// that only sleeps (no training: the table is about who may do what, and keeps CI fast).
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "engine/util/sha256.h"
#include "petabox/v1/admin.grpc.pb.h"
#include "tests/daemon/integration/daemon_harness.h"
#include "tests/daemon/integration/http_harness.h"

namespace petabox::daemon::testing {
namespace {

namespace fs = std::filesystem;
using grpc::StatusCode;
using v1::Job;

constexpr int kOk = StatusCode::OK;
constexpr int kNotFound = StatusCode::NOT_FOUND;
constexpr int kDenied = StatusCode::PERMISSION_DENIED;
constexpr int kUnauth = StatusCode::UNAUTHENTICATED;
constexpr int kPrecondition = StatusCode::FAILED_PRECONDITION;
constexpr int kInvalid = StatusCode::INVALID_ARGUMENT;
// What a cell answers when a call succeeded but showed another tenant's resource.
constexpr int kLeak = 1000;

enum Who { kOwner, kTenantA, kTenantB, kNoToken, kRevoked, kWrong, kWhoCount };
const char* const kWhoNames[] = {"owner", "tenant A", "tenant B", "no token", "revoked token", "wrong token"};

// A petabox-worker stand-in: holds its devices until stopped, sends no event.
std::string WriteSleepingWorker(const std::string& dir) {
  const std::string path = dir + "/sleeping-worker.sh";
  std::ofstream(path) << "#!/bin/sh\nexec sleep 600\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return context;
}

// The daemon and the stubs of its four services.
struct Box {
  explicit Box(const std::string& config) : daemon(config) {
    daemon.set_worker_binary(WriteSleepingWorker(fs::path(daemon.data_dir()).parent_path().string()));
    daemon.ServeHttp();
    daemon.Start();
    auto channel = grpc::CreateChannel(daemon.address(), grpc::InsecureChannelCredentials());
    jobs = v1::JobService::NewStub(channel);
    datasets = v1::DatasetService::NewStub(channel);
    box = v1::BoxService::NewStub(channel);
    admin = v1::AdminService::NewStub(channel);
  }

  // A tenant with `quota`; returns its token (fails the test on error).
  std::string CreateTenant(const std::string& name, v1::TenantQuota quota = {}) {
    v1::CreateTenantRequest request;
    request.set_name(name);
    *request.mutable_quota() = quota;
    v1::CreateTenantResponse response;
    grpc::Status s = admin->CreateTenant(Ctx(daemon.token()).get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.token();
  }
  grpc::Status Revoke(const std::string& name, const std::string& token) {
    v1::RevokeTenantRequest request;
    request.set_name(name);
    v1::Tenant out;
    return admin->RevokeTenant(Ctx(token).get(), request, &out);
  }
  grpc::Status Submit(const std::string& token, const std::string& spec, Job* out) {
    v1::CreateJobRequest request;
    request.mutable_job()->set_spec_yaml(spec);
    return jobs->CreateJob(Ctx(token).get(), request, out);
  }
  std::string Spec(const std::string& name, const std::string& extra = "") {
    std::string spec = ShortJobSpec(daemon.dataset_dir(), 100000, 0, extra);
    return "name: " + name + spec.substr(spec.find('\n'));
  }
  grpc::Status Upload(const std::string& token, const std::string& name, const std::string& bytes) {
    v1::Dataset out;
    auto context = Ctx(token);
    auto writer = datasets->UploadDataset(context.get(), &out);
    v1::UploadDatasetRequest header;
    header.set_name(name);
    v1::DatasetFile* file = header.add_files();
    file->set_path("data.bin");
    file->set_size_bytes(static_cast<int64_t>(bytes.size()));
    file->set_sha256(Sha256Hex(bytes));
    header.set_data(bytes);
    writer->Write(header);
    writer->WritesDone();
    return writer->Finish();
  }
  v1::Job WaitForState(const std::string& name, Job::State state, int seconds = 30) {
    return daemon.WaitForState(name, state, std::chrono::seconds(seconds));
  }

  DaemonHarness daemon;
  std::unique_ptr<v1::JobService::Stub> jobs;
  std::unique_ptr<v1::DatasetService::Stub> datasets;
  std::unique_ptr<v1::BoxService::Stub> box;
  std::unique_ptr<v1::AdminService::Stub> admin;
};

// One row of the table: a call made as each principal, the code each must answer, and
// whose resource it reaches ("A", "owner", "any" for listings that hold everyone's, "" for
// none): a tenant's cell on someone else's resource is a cross-tenant access.
struct Row {
  std::string name;
  std::function<int(const std::string& token, Who who)> call;
  std::array<int, kWhoCount> expect;
  std::string reaches;
};

bool IsCrossTenant(const Row& row, Who who) {
  if (who != kTenantA && who != kTenantB) return false;
  if (row.reaches == "any") return true;
  return !row.reaches.empty() && row.reaches != (who == kTenantA ? "A" : "B");
}

class DaemonTenantTableTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    box_ = new Box("devices: [CPU:0, CPU:1]\n");
    tokens_[kOwner] = box_->daemon.token();
    tokens_[kTenantA] = box_->CreateTenant("alice");
    tokens_[kTenantB] = box_->CreateTenant("bob");
    tokens_[kRevoked] = box_->CreateTenant("rex");
    ASSERT_TRUE(box_->Revoke("rex", tokens_[kOwner]).ok());
    tokens_[kWrong] = "pbt_" + std::string(64, '0');
    ASSERT_TRUE(box_->Submit(tokens_[kOwner], box_->Spec("secret-owner-job"), &owner_job_).ok());
    ASSERT_TRUE(box_->Submit(tokens_[kTenantA], box_->Spec("secret-alice-job"), &alice_job_).ok());
    ASSERT_TRUE(box_->Submit(tokens_[kTenantB], box_->Spec("secret-bob-job"), &bob_job_).ok());
    ASSERT_TRUE(box_->Upload(tokens_[kTenantA], "alice-data", "alice's bytes").ok());
  }
  static void TearDownTestSuite() {
    delete box_;
    box_ = nullptr;
  }
  void TearDown() override {
    if (HasFailure() && box_) std::cerr << box_->daemon.Log();
  }

  static std::vector<Row> Rows();
  static std::vector<Row> HttpRows();

  static Box* box_;
  static std::array<std::string, kWhoCount> tokens_;
  static Job owner_job_, alice_job_, bob_job_;
};

Box* DaemonTenantTableTest::box_ = nullptr;
std::array<std::string, kWhoCount> DaemonTenantTableTest::tokens_;
Job DaemonTenantTableTest::owner_job_, DaemonTenantTableTest::alice_job_, DaemonTenantTableTest::bob_job_;

// A unique name per call, for rows that make or remove something.
std::string Fresh(const std::string& prefix) {
  static int n = 0;
  return prefix + "-" + std::to_string(++n);
}

int Code(const grpc::Status& s) { return s.error_code(); }

// For listings: OK only when the caller saw all it should and nothing of anyone else's.
int Listed(const grpc::Status& s, const std::vector<std::string>& shown, Who who,
           const std::map<Who, std::vector<std::string>>& own) {
  if (!s.ok()) return s.error_code();
  for (const auto& [owner, names] : own) {
    for (const std::string& n : names) {
      const bool present = std::count(shown.begin(), shown.end(), n) > 0;
      const bool allowed = who == kOwner || owner == who;
      if (present && !allowed) return kLeak;
      if (!present && allowed) return StatusCode::INTERNAL;  // a missing own resource fails too
    }
  }
  return kOk;
}

std::vector<Row> DaemonTenantTableTest::Rows() {
  Box& b = *box_;
  const std::string a_job = alice_job_.name(), o_job = owner_job_.name(), b_job = bob_job_.name();
  const auto get = [&b](const std::string& job) {
    return [&b, job](const std::string& token, Who) {
      v1::GetJobRequest r;
      r.set_name(job);
      Job out;
      return Code(b.jobs->GetJob(Ctx(token).get(), r, &out));
    };
  };
  std::vector<Row> rows;
  rows.push_back({"GetJob(A's job)", get(a_job), {kOk, kOk, kNotFound, kUnauth, kUnauth, kUnauth}, "A"});
  rows.push_back({"GetJob(owner's job)", get(o_job), {kOk, kNotFound, kNotFound, kUnauth, kUnauth, kUnauth}, "owner"});
  rows.push_back({"ListJobs", [&b, a_job, o_job, b_job](const std::string& token, Who who) {
                    v1::ListJobsRequest r;
                    v1::ListJobsResponse out;
                    grpc::Status s = b.jobs->ListJobs(Ctx(token).get(), r, &out);
                    std::vector<std::string> shown;
                    for (const Job& j : out.jobs()) shown.push_back(j.name());
                    return Listed(s, shown, who, {{kOwner, {o_job}}, {kTenantA, {a_job}}, {kTenantB, {b_job}}});
                  },
                  {kOk, kOk, kOk, kUnauth, kUnauth, kUnauth}, "any"});
  rows.push_back({"CancelJob(A's job)", [&b](const std::string& token, Who) {
                    Job job;
                    if (!b.Submit(tokens_[kTenantA], b.Spec(Fresh("to-cancel")), &job).ok()) return -1;
                    v1::CancelJobRequest r;
                    r.set_name(job.name());
                    Job out;
                    const int code = Code(b.jobs->CancelJob(Ctx(token).get(), r, &out));
                    if (code != kOk) b.jobs->CancelJob(Ctx(tokens_[kOwner]).get(), r, &out);  // tidy up
                    return code;
                  },
                  {kOk, kOk, kNotFound, kUnauth, kUnauth, kUnauth}, "A"});
  rows.push_back({"WatchJob(A's job)", [&b, a_job](const std::string& token, Who) {
                    v1::WatchJobRequest r;
                    r.set_name(a_job);
                    auto context = Ctx(token);
                    auto reader = b.jobs->WatchJob(context.get(), r);
                    v1::JobEvent event;
                    if (reader->Read(&event)) {
                      context->TryCancel();
                      reader->Finish();
                      return kOk;
                    }
                    return Code(reader->Finish());
                  },
                  {kOk, kOk, kNotFound, kUnauth, kUnauth, kUnauth}, "A"});
  rows.push_back({"GetJobLogs(A's job)", [&b, a_job](const std::string& token, Who) {
                    v1::GetJobLogsRequest r;
                    r.set_name(a_job);
                    v1::GetJobLogsResponse out;
                    return Code(b.jobs->GetJobLogs(Ctx(token).get(), r, &out));
                  },
                  {kOk, kOk, kNotFound, kUnauth, kUnauth, kUnauth}, "A"});
  rows.push_back({"DownloadCheckpoint(A's job)", [&b, a_job](const std::string& token, Who) {
                    v1::DownloadCheckpointRequest r;
                    r.set_name(a_job);
                    auto context = Ctx(token);
                    auto reader = b.jobs->DownloadCheckpoint(context.get(), r);
                    v1::CheckpointChunk chunk;
                    while (reader->Read(&chunk)) {
                    }
                    return Code(reader->Finish());
                  },
                  {kPrecondition, kPrecondition, kNotFound, kUnauth, kUnauth, kUnauth}, "A"});
  rows.push_back({"CreateJob", [&b](const std::string& token, Who) {
                    Job out;
                    const int code = Code(b.Submit(token, b.Spec(Fresh("created")), &out));
                    v1::CancelJobRequest r;
                    r.set_name(out.name());
                    if (code == kOk) b.jobs->CancelJob(Ctx(tokens_[kOwner]).get(), r, &out);
                    return code;
                  },
                  {kOk, kOk, kOk, kUnauth, kUnauth, kUnauth}, ""});
  rows.push_back({"CreateJob(on A's dataset)", [&b](const std::string& token, Who) {
                    Job out;
                    const std::string spec = "name: " + Fresh("on-data") +
                                             "\nmodel: mlp\ndataset: {source: datasets/alice-data}\n"
                                             "epochs: 1\nglobal_batch_size: 32\noptimizer: {name: sgd, lr: 0.05}\n";
                    const int code = Code(b.Submit(token, spec, &out));
                    v1::CancelJobRequest r;
                    r.set_name(out.name());
                    if (code == kOk) b.jobs->CancelJob(Ctx(tokens_[kOwner]).get(), r, &out);
                    return code;
                  },
                  // The owner's datasets/alice-data is the owner's own (there is none).
                  {kPrecondition, kOk, kPrecondition, kUnauth, kUnauth, kUnauth}, "A"});
  rows.push_back({"CreateJob(dataset.dir: A's upload's files)", [&b](const std::string& token, Who) {
                    Job out;
                    const std::string spec = "name: " + Fresh("by-path") + "\nmodel: mlp\ndataset: {dir: " +
                                             b.daemon.data_dir() + "/tenants/alice/datasets/alice-data}\n"
                                             "epochs: 1\nglobal_batch_size: 32\noptimizer: {name: sgd, lr: 0.05}\n";
                    const int code = Code(b.Submit(token, spec, &out));
                    v1::CancelJobRequest r;
                    r.set_name(out.name());
                    if (code == kOk) b.jobs->CancelJob(Ctx(tokens_[kOwner]).get(), r, &out);
                    return code;
                  },
                  // Only the owner may point a job into the data directory.
                  {kOk, kInvalid, kInvalid, kUnauth, kUnauth, kUnauth}, "A"});
  rows.push_back({"UploadDataset", [&b](const std::string& token, Who) {
                    return Code(b.Upload(token, Fresh("upload"), "some bytes"));
                  },
                  {kOk, kOk, kOk, kUnauth, kUnauth, kUnauth}, ""});
  rows.push_back({"ListDatasets", [&b](const std::string& token, Who who) {
                    v1::ListDatasetsResponse out;
                    grpc::Status s = b.datasets->ListDatasets(Ctx(token).get(), {}, &out);
                    std::vector<std::string> shown;
                    for (const v1::Dataset& d : out.datasets()) shown.push_back(d.name());
                    // The owner names it by its key; alice by her own name; bob sees neither.
                    const std::string seen_as = who == kOwner ? "tenants/alice/datasets/alice-data" : "datasets/alice-data";
                    return Listed(s, shown, who, {{kTenantA, {seen_as}}});
                  },
                  {kOk, kOk, kOk, kUnauth, kUnauth, kUnauth}, "any"});
  rows.push_back({"DeleteDataset(A's dataset)", [&b](const std::string& token, Who who) {
                    const std::string name = Fresh("to-delete");
                    if (!b.Upload(tokens_[kTenantA], name, "bytes").ok()) return -1;
                    v1::DeleteDatasetRequest r;
                    r.set_name(who == kOwner ? "tenants/alice/datasets/" + name : name);
                    v1::DeleteDatasetResponse out;
                    return Code(b.datasets->DeleteDataset(Ctx(token).get(), r, &out));
                  },
                  {kOk, kOk, kNotFound, kUnauth, kUnauth, kUnauth}, "A"});
  for (const bool watch : {false, true}) {
    rows.push_back({watch ? "WatchBox" : "GetBox", [&b, watch](const std::string& token, Who who) {
                      v1::Box out;
                      grpc::Status s;
                      auto context = Ctx(token);
                      if (watch) {
                        auto reader = b.box->WatchBox(context.get(), {});
                        if (reader->Read(&out)) context->TryCancel();
                        s = reader->Finish();
                        if (s.error_code() == StatusCode::CANCELLED) s = grpc::Status::OK;
                      } else {
                        s = b.box->GetBox(context.get(), {}, &out);
                      }
                      if (!s.ok() || who == kOwner) return Code(s);
                      const std::string self = who == kTenantA ? "alice" : "bob";
                      for (const v1::Device& d : out.devices()) {
                        if (!d.tenant().empty() && d.tenant() != self) return kLeak;
                        if (!d.job().empty() && d.tenant() != self) return kLeak;
                      }
                      for (const v1::TenantUsage& u : out.tenants()) {
                        if (u.tenant() != self) return kLeak;
                      }
                      return kOk;
                    },
                    {kOk, kOk, kOk, kUnauth, kUnauth, kUnauth}, "any"});
  }
  rows.push_back({"CreateTenant", [&b](const std::string& token, Who) {
                    v1::CreateTenantRequest r;
                    r.set_name(Fresh("made"));
                    v1::CreateTenantResponse out;
                    return Code(b.admin->CreateTenant(Ctx(token).get(), r, &out));
                  },
                  {kOk, kDenied, kDenied, kUnauth, kUnauth, kUnauth}, ""});
  rows.push_back({"ListTenants", [&b](const std::string& token, Who) {
                    v1::ListTenantsResponse out;
                    return Code(b.admin->ListTenants(Ctx(token).get(), {}, &out));
                  },
                  {kOk, kDenied, kDenied, kUnauth, kUnauth, kUnauth}, ""});
  rows.push_back({"RevokeTenant", [&b](const std::string& token, Who) {
                    const std::string name = Fresh("victim");
                    b.CreateTenant(name);
                    return Code(b.Revoke(name, token));
                  },
                  {kOk, kDenied, kDenied, kUnauth, kUnauth, kUnauth}, ""});
  rows.push_back({"ListAuditRecords", [&b](const std::string& token, Who) {
                    v1::ListAuditRecordsResponse out;
                    return Code(b.admin->ListAuditRecords(Ctx(token).get(), {}, &out));
                  },
                  {kOk, kDenied, kDenied, kUnauth, kUnauth, kUnauth}, ""});
  return rows;
}

// The HTTP endpoints have no authentication: every caller gets 200, and no answer may name
// a tenant's job (its id or its display name).
std::vector<Row> DaemonTenantTableTest::HttpRows() {
  std::vector<Row> rows;
  for (const char* target : {"/", "/api/box", "/api/history", "/metrics", "/healthz", "/static/status.js"}) {
    rows.push_back({std::string("HTTP GET ") + target, [target](const std::string&, Who) {
                      const HttpResult r = HttpGet(box_->daemon.http_port(), target);
                      for (const Job* job : {&alice_job_, &bob_job_}) {
                        const std::string id = job->name().substr(5);
                        if (r.body.find(id) != std::string::npos) return kLeak;
                        if (r.body.find(job->display_name()) != std::string::npos) return kLeak;
                      }
                      return r.status;
                    },
                    {200, 200, 200, 200, 200, 200}, "any"});
  }
  return rows;
}

TEST_F(DaemonTenantTableTest, EveryCallAnswersEachPrincipalAsExpected) {
  // The owner's own job must show on the HTTP endpoints (the redaction is not blanket).
  const HttpResult page = HttpGet(box_->daemon.http_port(), "/api/box");
  EXPECT_NE(page.body.find(owner_job_.name()), std::string::npos) << page.body;
  EXPECT_EQ(page.body.find("secret-alice-job"), std::string::npos);
  std::vector<Row> rows = Rows();
  for (Row& r : HttpRows()) rows.push_back(std::move(r));
  int cells = 0, cross = 0, cross_refused = 0;
  for (const Row& row : rows) {
    for (int w = 0; w < kWhoCount; ++w) {
      const Who who = static_cast<Who>(w);
      const int got = row.call(tokens_[who], who);
      ++cells;
      EXPECT_EQ(got, row.expect[who]) << row.name << " as " << kWhoNames[who];
      if (IsCrossTenant(row, who)) {
        ++cross;
        if (got == row.expect[who]) ++cross_refused;
      }
    }
  }
  std::cout << "tenant table: " << rows.size() << " calls x " << kWhoCount << " principals = " << cells
            << " cells; cross-tenant accesses refused: " << cross_refused << " of " << cross << "\n";
  EXPECT_EQ(cross_refused, cross);
  EXPECT_GE(cross, 20);
}

TEST_F(DaemonTenantTableTest, TenantsHaveTheirOwnDatasetNamespaceAndRequestIds) {
  // bob may use a name alice uses: no ALREADY_EXISTS that would tell him hers exists.
  EXPECT_TRUE(box_->Upload(tokens_[kTenantB], "alice-data", "bob's bytes").ok());
  // A request id alice used does not give bob her job.
  v1::CreateJobRequest request;
  request.mutable_job()->set_spec_yaml(box_->Spec("idempotent"));
  request.set_request_id("same-id");
  Job first, second;
  ASSERT_TRUE(box_->jobs->CreateJob(Ctx(tokens_[kTenantA]).get(), request, &first).ok());
  ASSERT_TRUE(box_->jobs->CreateJob(Ctx(tokens_[kTenantB]).get(), request, &second).ok());
  EXPECT_NE(first.name(), second.name());
  EXPECT_EQ(first.tenant(), "alice");
  EXPECT_EQ(second.tenant(), "bob");
  Job again;
  ASSERT_TRUE(box_->jobs->CreateJob(Ctx(tokens_[kTenantA]).get(), request, &again).ok());
  EXPECT_EQ(again.name(), first.name());
  for (const Job* j : {&first, &second}) {
    v1::CancelJobRequest cancel;
    cancel.set_name(j->name());
    Job out;
    box_->jobs->CancelJob(Ctx(tokens_[kOwner]).get(), cancel, &out);
  }
}

TEST_F(DaemonTenantTableTest, RevokedTokenEndsItsOpenWatchAndAuditRecordsEveryMutation) {
  const std::string token = box_->CreateTenant("carol");
  Job job;
  ASSERT_TRUE(box_->Submit(token, box_->Spec("carol-job"), &job).ok());
  v1::WatchJobRequest request;
  request.set_name(job.name());
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + token);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto reader = box_->jobs->WatchJob(&context, request);
  v1::JobEvent event;
  ASSERT_TRUE(reader->Read(&event));  // the stream is open
  ASSERT_TRUE(box_->Revoke("carol", tokens_[kOwner]).ok());
  const auto revoked_at = std::chrono::steady_clock::now();
  while (reader->Read(&event)) {
  }
  const grpc::Status ended = reader->Finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - revoked_at).count();
  EXPECT_EQ(ended.error_code(), StatusCode::UNAUTHENTICATED) << ended.error_message();
  EXPECT_NE(ended.error_message().find("revoked"), std::string::npos) << ended.error_message();
  EXPECT_LT(seconds, 10.0);
  // The next call is refused too.
  v1::GetJobRequest get;
  get.set_name(job.name());
  Job out;
  EXPECT_EQ(box_->jobs->GetJob(Ctx(token).get(), get, &out).error_code(), StatusCode::UNAUTHENTICATED);

  // The audit log has the revocation, carol's job, and a refused cancel without a token.
  v1::CancelJobRequest cancel;
  cancel.set_name(job.name());
  EXPECT_EQ(box_->jobs->CancelJob(Ctx("").get(), cancel, &out).error_code(), StatusCode::UNAUTHENTICATED);
  v1::ListAuditRecordsRequest list;
  list.set_limit(1000);
  v1::ListAuditRecordsResponse audit;
  ASSERT_TRUE(box_->admin->ListAuditRecords(Ctx(tokens_[kOwner]).get(), list, &audit).ok());
  bool revoke = false, create = false, refused = false;
  int64_t previous = 0;
  for (const v1::AuditRecord& r : audit.records()) {
    if (previous) EXPECT_LT(r.sequence(), previous) << "newest first";
    previous = r.sequence();
    EXPECT_TRUE(r.has_time());
    revoke |= r.method() == "RevokeTenant" && r.target() == "carol" && r.principal() == "owner" && r.code() == "OK";
    create |= r.method() == "CreateJob" && r.target() == job.name() && r.principal() == "carol" && r.code() == "OK";
    refused |= r.method() == "CancelJob" && r.target() == job.name() && r.principal().empty() &&
               r.code() == "UNAUTHENTICATED";
  }
  EXPECT_TRUE(revoke);
  EXPECT_TRUE(create);
  EXPECT_TRUE(refused);
  ASSERT_TRUE(box_->jobs->CancelJob(Ctx(tokens_[kOwner]).get(), cancel, &out).ok());  // the owner still can
}

// Quotas, on a daemon of their own (they depend on which devices are free).
class DaemonTenantQuotaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { box_ = new Box("devices: [CPU:0, CPU:1]\n"); }
  static void TearDownTestSuite() {
    delete box_;
    box_ = nullptr;
  }
  void TearDown() override {
    if (HasFailure() && box_) std::cerr << box_->daemon.Log();
  }
  void Cancel(const std::string& name) {
    v1::CancelJobRequest r;
    r.set_name(name);
    Job out;
    box_->jobs->CancelJob(Ctx(box_->daemon.token()).get(), r, &out);
  }
  static Box* box_;
};

Box* DaemonTenantQuotaTest::box_ = nullptr;

TEST_F(DaemonTenantQuotaTest, DevicesAtOnce) {
  v1::TenantQuota quota;
  quota.set_max_devices(1);
  const std::string token = box_->CreateTenant("dora", quota);
  Job big;
  grpc::Status s = box_->Submit(token, box_->Spec("two-devices", "device_count: 2\n"), &big);
  EXPECT_EQ(s.error_code(), StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(s.error_message(), "tenant 'dora': devices quota 1 reached (the job asks for 2)");
  Job first, second;
  ASSERT_TRUE(box_->Submit(token, box_->Spec("first"), &first).ok());
  box_->WaitForState(first.name(), Job::STARTING);
  ASSERT_TRUE(box_->Submit(token, box_->Spec("second"), &second).ok());
  // A device is free, but dora holds her one: the second waits.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(box_->daemon.Get(second.name()).state(), Job::QUEUED);
  Cancel(first.name());
  box_->WaitForState(second.name(), Job::STARTING);
  Cancel(second.name());
  box_->WaitForState(second.name(), Job::CANCELLED);
}

TEST_F(DaemonTenantQuotaTest, QueuedJobs) {
  v1::TenantQuota quota;
  quota.set_max_queued_jobs(2);
  quota.set_max_devices(1);  // so that her jobs beyond the first one queue
  const std::string token = box_->CreateTenant("quinn", quota);
  std::vector<std::string> made;
  grpc::Status refused;
  for (int i = 0; i < 5 && refused.ok(); ++i) {
    Job job;
    refused = box_->Submit(token, box_->Spec("q" + std::to_string(i)), &job);
    if (refused.ok()) made.push_back(job.name());
  }
  EXPECT_EQ(refused.error_code(), StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(refused.error_message(), "tenant 'quinn': queued jobs quota 2 reached");
  int queued = 0;
  for (const std::string& name : made) queued += box_->daemon.Get(name).state() == Job::QUEUED;
  EXPECT_EQ(queued, 2);
  for (const std::string& name : made) Cancel(name);
}

TEST_F(DaemonTenantQuotaTest, StorageBytesCountDatasetsAndCheckpoints) {
  v1::TenantQuota quota;
  quota.set_max_storage_bytes(1000);
  const std::string token = box_->CreateTenant("sam", quota);
  ASSERT_TRUE(box_->Upload(token, "first", std::string(600, 'x')).ok());
  grpc::Status s = box_->Upload(token, "second", std::string(600, 'y'));
  EXPECT_EQ(s.error_code(), StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(s.error_message(), "tenant 'sam': storage bytes quota 1000 reached (600 bytes used, 600 more asked for)");
  Job job;
  ASSERT_TRUE(box_->Submit(token, box_->Spec("saver"), &job).ok());
  // A checkpoint of 500 bytes (as a worker would write it) takes sam past his quota.
  const std::string dir = box_->daemon.data_dir() + "/jobs/" + job.name().substr(5) + "/checkpoints";
  std::ofstream(dir + "/step-00000001.safetensors") << std::string(500, 'c');
  Job another;
  s = box_->Submit(token, box_->Spec("another"), &another);
  EXPECT_EQ(s.error_code(), StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(s.error_message(), "tenant 'sam': storage bytes quota 1000 reached (1100 bytes used)");
  Cancel(job.name());
}

TEST_F(DaemonTenantQuotaTest, LongestJobIsStoppedWithTheReason) {
  v1::TenantQuota quota;
  quota.set_max_job_seconds(1);
  const std::string token = box_->CreateTenant("tess", quota);
  Job job;
  ASSERT_TRUE(box_->Submit(token, box_->Spec("sleeper"), &job).ok());
  const Job failed = box_->WaitForState(job.name(), Job::FAILED, 30);
  EXPECT_EQ(failed.failure_reason(), "tenant 'tess': job seconds quota 1 reached (the job ran that long and was stopped)");
}

// Preemption with the stand-in worker (it dies at SIGTERM, as a worker does once it has
// checkpointed): the owner's job takes the tenant's device, the tenant's job waits and
// resumes after; a tenant's job, whatever its priority, never preempts the owner's.
TEST(DaemonTenantPreemptionTest, OwnersJobPreemptsTenantsJobWhichResumesAfterIt) {
  Box box("devices: [CPU:0]\n");
  const std::string owner = box.daemon.token();
  const std::string token = box.CreateTenant("rita");
  Job rented, mine, urgent;
  ASSERT_TRUE(box.Submit(token, box.Spec("rented"), &rented).ok());
  box.WaitForState(rented.name(), Job::STARTING);
  ASSERT_TRUE(box.Submit(owner, box.Spec("owners"), &mine).ok());
  const Job preempted = box.daemon.WaitFor(rented.name(), [](const Job& j) { return j.preemptions() == 1; },
                                           std::chrono::seconds(30));
  EXPECT_EQ(preempted.state(), Job::QUEUED);
  EXPECT_EQ(preempted.restarts(), 0);  // a preemption is not a crash
  box.WaitForState(mine.name(), Job::STARTING);
  grpc::Status watch_status;
  bool said_preempted = false;
  v1::WatchJobRequest watch;
  watch.set_name(rented.name());
  auto context = Ctx(token);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  auto reader = box.jobs->WatchJob(context.get(), watch);
  v1::JobEvent event;
  while (reader->Read(&event)) {
    if (event.has_state_change() && event.state_change().state() == Job::QUEUED &&
        event.state_change().reason().rfind("PREEMPTED", 0) == 0) {
      said_preempted = true;
    }
  }
  reader->Finish();
  EXPECT_TRUE(said_preempted);
  // A tenant's job of the highest priority waits while the owner's job runs.
  v1::CreateJobRequest request;
  request.mutable_job()->set_spec_yaml(box.Spec("urgent"));
  request.mutable_job()->set_priority(1000);
  ASSERT_TRUE(box.jobs->CreateJob(Ctx(token).get(), request, &urgent).ok());
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(box.daemon.Get(mine.name()).state(), Job::STARTING);
  EXPECT_EQ(box.daemon.Get(urgent.name()).state(), Job::QUEUED);
  v1::CancelJobRequest cancel;
  Job out;
  cancel.set_name(urgent.name());
  ASSERT_TRUE(box.jobs->CancelJob(Ctx(token).get(), cancel, &out).ok());
  cancel.set_name(mine.name());
  ASSERT_TRUE(box.jobs->CancelJob(Ctx(owner).get(), cancel, &out).ok());
  // The owner's job is done: the tenant's resumes.
  const Job resumed = box.WaitForState(rented.name(), Job::STARTING);
  EXPECT_EQ(resumed.preemptions(), 1);
  cancel.set_name(rented.name());
  box.jobs->CancelJob(Ctx(owner).get(), cancel, &out);
}

// End to end with the real worker: the tenant's job is preempted mid-training (it
// checkpoints on SIGTERM), the owner's job runs to SUCCEEDED, the tenant's resumes from
// its checkpoint and ends with the same result as an uninterrupted run of the same spec.
TEST(DaemonTenantPreemptionTest, PreemptedTrainingResumesToTheUninterruptedResult) {
  DaemonHarness daemon("devices: [CPU:0]\n");
  daemon.Start();
  auto channel = grpc::CreateChannel(daemon.address(), grpc::InsecureChannelCredentials());
  auto admin = v1::AdminService::NewStub(channel);
  v1::CreateTenantRequest create;
  create.set_name("renter");
  v1::CreateTenantResponse tenant;
  ASSERT_TRUE(admin->CreateTenant(daemon.Context().get(), create, &tenant).ok());
  const std::string spec = ShortJobSpec(daemon.dataset_dir(), 300, 50);
  v1::CreateJobRequest request;
  request.mutable_job()->set_spec_yaml(spec);
  Job rented;
  ASSERT_TRUE(daemon.jobs().CreateJob(daemon.Context(tenant.token()).get(), request, &rented).ok());
  daemon.WaitFor(rented.name(), [](const Job& j) { return j.progress().step() >= 60; });
  const Job owners = daemon.Submit(ShortJobSpec(daemon.dataset_dir(), 30));
  EXPECT_EQ(daemon.WaitForState(owners.name(), Job::SUCCEEDED).state(), Job::SUCCEEDED);
  const Job done = daemon.WaitForState(rented.name(), Job::SUCCEEDED);
  EXPECT_EQ(done.preemptions(), 1);
  EXPECT_EQ(done.preempted_steps_lost(), 0);  // it checkpointed at the step it stopped
  EXPECT_EQ(done.restarts(), 0);
  EXPECT_EQ(done.result().steps(), 300);
  const Job uninterrupted = daemon.WaitForState(daemon.Submit(spec).name(), Job::SUCCEEDED);
  EXPECT_EQ(uninterrupted.preemptions(), 0);
  EXPECT_EQ(done.result().test_accuracy(), uninterrupted.result().test_accuracy());
  EXPECT_EQ(done.result().final_loss(), uninterrupted.result().final_loss());
  if (HasFailure()) std::cerr << daemon.Log();
}

}  // namespace
}  // namespace petabox::daemon::testing
