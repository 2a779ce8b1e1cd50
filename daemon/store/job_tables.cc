#include "daemon/store/job_tables.h"

#include <charconv>
#include <cstdio>
#include <limits>
#include <string_view>
#include <utility>

namespace petabox::daemon {
namespace {

using sqlite::Statement;

// Jobs keep their insertion order in `seq` (AUTOINCREMENT never reuses a value, so a page
// token stays meaningful); the Job message itself is the `job` blob and the other columns
// are copies of its fields for lookups and filters. `request_id` holds CreateJob's
// idempotency key.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  state INTEGER NOT NULL,
  request_id TEXT UNIQUE,
  job BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, seq);
CREATE TABLE IF NOT EXISTS events (
  job TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  event BLOB NOT NULL,
  PRIMARY KEY (job, sequence)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS logs (
  job TEXT NOT NULL,
  line INTEGER NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (job, line)) WITHOUT ROWID;
)sql";

constexpr int kMaxPageSize = 1000;

// Page tokens are the creation-order cursor of the last job returned, as 16 hex digits.
std::string EncodePageToken(int64_t seq) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(seq));
  return buf;
}

StatusOr<int64_t> DecodePageToken(const std::string& token) {
  uint64_t seq = 0;
  const char* end = token.data() + token.size();
  auto [ptr, ec] = std::from_chars(token.data(), end, seq, 16);
  if (token.size() != 16 || ec != std::errc() || ptr != end || seq == 0 ||
      seq > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return InvalidArgument("invalid page_token \"" + token + "\": pass a next_page_token from ListJobs");
  }
  return static_cast<int64_t>(seq);
}

// " AND state IN (?n, ?n+1, ...)" binding from parameter `first`; "" for no states.
std::string StateFilter(const std::vector<v1::Job::State>& states, int first) {
  if (states.empty()) return "";
  std::string sql = " AND state IN (";
  for (size_t i = 0; i < states.size(); ++i) {
    sql += (i == 0 ? "?" : ", ?") + std::to_string(first + static_cast<int>(i));
  }
  return sql + ")";
}

void BindStates(Statement& stmt, const std::vector<v1::Job::State>& states, int first) {
  for (size_t i = 0; i < states.size(); ++i) stmt.Bind(first + static_cast<int>(i), int64_t{states[i]});
}

StatusOr<v1::Job> SelectJob(sqlite::Db& db, std::string_view where, std::string_view key) {
  PB_ASSIGN_OR_RETURN(Statement stmt,
                      Statement::Prepare(db, "SELECT job FROM jobs WHERE " + std::string(where) + " = ?1"));
  stmt.Bind(1, key);
  PB_ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return NotFound("job \"" + std::string(key) + "\" not found");
  return sqlite::ParseRow<v1::Job>(stmt.Bytes(0), "job");
}

Status CheckJobExists(sqlite::Db& db, const std::string& name) {
  PB_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(db, "SELECT 1 FROM jobs WHERE name = ?1"));
  stmt.Bind(1, name);
  PB_ASSIGN_OR_RETURN(bool found, stmt.Step());
  return found ? Status::Ok() : NotFound("job \"" + name + "\" not found");
}

Status ReplaceJob(sqlite::Db& db, const v1::Job& job) {
  PB_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(db, "UPDATE jobs SET state = ?2, job = ?3 WHERE name = ?1"));
  stmt.Bind(1, job.name()).Bind(2, int64_t{job.state()}).BindBlob(3, job.SerializeAsString());
  PB_RETURN_IF_ERROR(stmt.Run());
  if (db.Changes() == 0) return NotFound("job \"" + job.name() + "\" not found");
  return Status::Ok();
}

// Highest `column` of a job's rows in `table` (0 when none).
StatusOr<int64_t> LastNumber(sqlite::Db& db, const char* table, const char* column, const std::string& job_name) {
  std::string sql = std::string("SELECT COALESCE(MAX(") + column + "), 0) FROM " + table + " WHERE job = ?1";
  PB_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(db, sql));
  stmt.Bind(1, job_name);
  PB_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.Int(0) : 0;
}

// Numbers `event` last+1 and inserts it; the caller holds a transaction.
StatusOr<v1::JobEvent> InsertEvent(sqlite::Db& db, const std::string& job_name, v1::JobEvent event) {
  PB_ASSIGN_OR_RETURN(int64_t last, LastNumber(db, "events", "sequence", job_name));
  event.set_sequence(last + 1);
  PB_ASSIGN_OR_RETURN(Statement stmt,
                      Statement::Prepare(db, "INSERT INTO events (job, sequence, event) VALUES (?1, ?2, ?3)"));
  stmt.Bind(1, job_name).Bind(2, event.sequence()).BindBlob(3, event.SerializeAsString());
  PB_RETURN_IF_ERROR(stmt.Run());
  return event;
}

// Rows of (seq, job), newest first: up to `page_size` jobs, and a token for the next page
// when one more row follows.
StatusOr<JobPage> ReadJobPage(Statement& stmt, int page_size) {
  JobPage page;
  int64_t last_seq = 0;
  while (true) {
    PB_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return page;
    if (static_cast<int>(page.jobs.size()) == page_size) break;
    PB_ASSIGN_OR_RETURN(v1::Job job, sqlite::ParseRow<v1::Job>(stmt.Bytes(1), "job"));
    page.jobs.push_back(std::move(job));
    last_seq = stmt.Int(0);
  }
  page.next_page_token = EncodePageToken(last_seq);
  return page;
}

}  // namespace

Status JobTables::CreateSchema(sqlite::Db& db) { return db.Exec(kSchema); }

StatusOr<v1::Job> JobTables::CreateJob(const v1::Job& job, const std::string& request_id, bool* created) {
  sqlite::Transaction txn(*db_);
  PB_RETURN_IF_ERROR(txn.Begin());
  if (!request_id.empty()) {
    StatusOr<v1::Job> earlier = SelectJob(*db_, "request_id", request_id);
    if (earlier.ok() || earlier.status().code() != StatusCode::kNotFound) {
      if (earlier.ok() && created != nullptr) *created = false;
      return earlier;
    }
  }
  PB_ASSIGN_OR_RETURN(
      Statement stmt,
      Statement::Prepare(*db_, "INSERT INTO jobs (name, state, request_id, job, tenant) VALUES (?1, ?2, ?3, ?4, ?5)"));
  stmt.Bind(1, job.name()).Bind(2, int64_t{job.state()}).BindBlob(4, job.SerializeAsString()).Bind(5, job.tenant());
  if (request_id.empty()) {
    stmt.BindNull(3);
  } else {
    stmt.Bind(3, request_id);
  }
  Status inserted = stmt.Run();
  if (!inserted.ok() && sqlite::IsUniqueViolation(stmt.ExtendedErrorCode())) {
    return AlreadyExists("job \"" + job.name() + "\" already exists");
  }
  PB_RETURN_IF_ERROR(inserted);
  PB_RETURN_IF_ERROR(txn.Commit());
  if (created != nullptr) *created = true;
  return job;
}

Status JobTables::UpdateJob(const v1::Job& job) {
  return ReplaceJob(*db_, job);  // one statement: its own transaction
}

StatusOr<v1::JobEvent> JobTables::UpdateJobWithEvent(const v1::Job& job, v1::JobEvent event) {
  sqlite::Transaction txn(*db_);
  PB_RETURN_IF_ERROR(txn.Begin());
  PB_RETURN_IF_ERROR(ReplaceJob(*db_, job));
  PB_ASSIGN_OR_RETURN(event, InsertEvent(*db_, job.name(), std::move(event)));
  PB_RETURN_IF_ERROR(txn.Commit());
  return event;
}

StatusOr<v1::Job> JobTables::GetJob(const std::string& name) const { return SelectJob(*db_, "name", name); }

StatusOr<v1::Job> JobTables::JobByRequestId(const std::string& request_id) const {
  return SelectJob(*db_, "request_id", request_id);
}

StatusOr<JobPage> JobTables::ListJobs(int page_size, const std::string& page_token,
                                      const std::vector<v1::Job::State>& states, const std::string& tenant) const {
  if (page_size < 1 || page_size > kMaxPageSize) {
    return InvalidArgument("page_size " + std::to_string(page_size) + " is outside 1.." + std::to_string(kMaxPageSize));
  }
  int64_t before = std::numeric_limits<int64_t>::max();
  if (!page_token.empty()) {
    PB_ASSIGN_OR_RETURN(before, DecodePageToken(page_token));
  }
  const int first_state = tenant.empty() ? 3 : 4;
  std::string sql = "SELECT seq, job FROM jobs WHERE seq < ?1" + std::string(tenant.empty() ? "" : " AND tenant = ?3") +
                    StateFilter(states, first_state) + " ORDER BY seq DESC LIMIT ?2";
  PB_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(*db_, sql));
  // One row more than the page tells whether there is a next page.
  stmt.Bind(1, before).Bind(2, int64_t{page_size} + 1);
  if (!tenant.empty()) stmt.Bind(3, tenant);
  BindStates(stmt, states, first_state);
  return ReadJobPage(stmt, page_size);
}

StatusOr<std::vector<v1::Job>> JobTables::JobsInStates(const std::vector<v1::Job::State>& states) const {
  if (states.empty()) return std::vector<v1::Job>();
  std::string sql = "SELECT job FROM jobs WHERE 1" + StateFilter(states, 1) + " ORDER BY seq";
  PB_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(*db_, sql));
  BindStates(stmt, states, 1);
  return sqlite::ReadMessages<v1::Job>(stmt, "job");
}

StatusOr<v1::JobEvent> JobTables::AppendEvent(const std::string& job_name, v1::JobEvent event) {
  sqlite::Transaction txn(*db_);
  PB_RETURN_IF_ERROR(txn.Begin());
  PB_RETURN_IF_ERROR(CheckJobExists(*db_, job_name));
  PB_ASSIGN_OR_RETURN(event, InsertEvent(*db_, job_name, std::move(event)));
  PB_RETURN_IF_ERROR(txn.Commit());
  return event;
}

StatusOr<std::vector<v1::JobEvent>> JobTables::EventsAfter(const std::string& job_name, int64_t after_sequence,
                                                           int limit) const {
  if (limit < 1) return InvalidArgument("event limit must be at least 1");
  PB_RETURN_IF_ERROR(CheckJobExists(*db_, job_name));
  PB_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(*db_,
                                                         "SELECT event FROM events WHERE job = ?1 AND sequence > ?2 "
                                                         "ORDER BY sequence LIMIT ?3"));
  stmt.Bind(1, job_name).Bind(2, after_sequence).Bind(3, int64_t{limit});
  return sqlite::ReadMessages<v1::JobEvent>(stmt, "event");
}

StatusOr<int64_t> JobTables::LastSequence(const std::string& job_name) const {
  PB_RETURN_IF_ERROR(CheckJobExists(*db_, job_name));
  return LastNumber(*db_, "events", "sequence", job_name);
}

Status JobTables::AppendLogs(const std::string& job_name, const std::vector<std::string>& lines) {
  sqlite::Transaction txn(*db_);
  PB_RETURN_IF_ERROR(txn.Begin());
  PB_RETURN_IF_ERROR(CheckJobExists(*db_, job_name));
  PB_ASSIGN_OR_RETURN(int64_t last, LastNumber(*db_, "logs", "line", job_name));
  PB_ASSIGN_OR_RETURN(Statement stmt,
                      Statement::Prepare(*db_, "INSERT INTO logs (job, line, text) VALUES (?1, ?2, ?3)"));
  for (const std::string& line : lines) {
    stmt.Bind(1, job_name).Bind(2, ++last).Bind(3, line);
    PB_RETURN_IF_ERROR(stmt.Run());
    stmt.Reset();
  }
  return txn.Commit();
}

StatusOr<std::vector<std::string>> JobTables::ReadLogs(const std::string& job_name, int64_t after_line, int max_lines,
                                                       int64_t* last_line) const {
  if (max_lines < 1) return InvalidArgument("max_lines must be at least 1");
  PB_RETURN_IF_ERROR(CheckJobExists(*db_, job_name));
  PB_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(*db_,
                                                         "SELECT line, text FROM logs WHERE job = ?1 AND line > ?2 "
                                                         "ORDER BY line LIMIT ?3"));
  stmt.Bind(1, job_name).Bind(2, after_line).Bind(3, int64_t{max_lines});
  std::vector<std::string> lines;
  int64_t last = after_line;
  while (true) {
    PB_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    last = stmt.Int(0);
    lines.push_back(stmt.Bytes(1));
  }
  if (last_line != nullptr) *last_line = last;
  return lines;
}

}  // namespace petabox::daemon
