// tenants create|list|revoke, audit (owner only).
#include <iostream>
#include <memory>

#include "client/cli/commands.h"
#include "client/cli/format.h"
#include "client/cli/json.h"
#include "client/cli/table.h"
#include "client/lib/admin_client.h"

namespace petabox::cli {
namespace {

struct CreateArgs {
  std::string name;
  v1::TenantQuota quota;
  int32_t max_devices = 0;
  int32_t max_queued = 0;
  int64_t max_storage_bytes = 0;
  int64_t max_job_seconds = 0;
};

// "-" for 0 (no limit).
std::string Limit(int64_t value) { return value == 0 ? "-" : std::to_string(value); }

Outcome RunCreate(CommandContext& context, const CreateArgs& args) {
  auto connection = context.Connect();
  if (!connection.ok()) return UsageError(connection.status());
  v1::TenantQuota quota;
  quota.set_max_devices(args.max_devices);
  quota.set_max_queued_jobs(args.max_queued);
  quota.set_max_storage_bytes(args.max_storage_bytes);
  quota.set_max_job_seconds(args.max_job_seconds);
  auto created = client::AdminClient(**connection).CreateTenant(args.name, quota);
  if (!created.ok()) return context.RpcFailure(created.status());
  if (context.json()) {
    std::cout << ToJson(*created) << "\n";
  } else {
    std::cout << "tenant " << created->tenant().name() << " created; its token (shown only now):\n"
              << created->token() << "\n";
  }
  return Success();
}

Outcome RunList(CommandContext& context) {
  auto connection = context.Connect();
  if (!connection.ok()) return UsageError(connection.status());
  auto tenants = client::AdminClient(**connection).ListTenants();
  if (!tenants.ok()) return context.RpcFailure(tenants.status());
  if (context.json()) {
    std::cout << ToJson(*tenants) << "\n";
    return Success();
  }
  Table table({"TENANT", "STATE", "DEVICES", "QUEUED", "STORAGE", "JOB SECONDS", "CREATED"});
  for (const v1::Tenant& t : tenants->tenants()) {
    const v1::TenantQuota& q = t.quota();
    table.AddRow({t.name(), t.revoked() ? "revoked" : "active", Limit(q.max_devices()), Limit(q.max_queued_jobs()),
                  q.max_storage_bytes() ? FormatBytes(q.max_storage_bytes()) : "-", Limit(q.max_job_seconds()),
                  FormatTimestamp(t.create_time())});
  }
  std::cout << (table.rows() ? table.Render() : "No tenants.\n");
  return Success();
}

Outcome RunRevoke(CommandContext& context, const std::string& name) {
  auto connection = context.Connect();
  if (!connection.ok()) return UsageError(connection.status());
  auto tenant = client::AdminClient(**connection).RevokeTenant(name);
  if (!tenant.ok()) return context.RpcFailure(tenant.status());
  std::cout << (context.json() ? ToJson(*tenant) : "tenant " + tenant->name() + " revoked") << "\n";
  return Success();
}

Outcome RunAudit(CommandContext& context, int limit) {
  auto connection = context.Connect();
  if (!connection.ok()) return UsageError(connection.status());
  auto records = client::AdminClient(**connection).ListAuditRecords(limit);
  if (!records.ok()) return context.RpcFailure(records.status());
  if (context.json()) {
    std::cout << ToJson(*records) << "\n";
    return Success();
  }
  Table table({"SEQ", "TIME", "WHO", "CALL", "TARGET", "RESULT", "MESSAGE"});
  for (const v1::AuditRecord& r : records->records()) {
    table.AddRow({std::to_string(r.sequence()), FormatTimestamp(r.time()),
                  r.principal().empty() ? "(no valid token)" : r.principal(), r.method(), r.target(), r.code(),
                  r.message()});
  }
  std::cout << (table.rows() ? table.Render() : "No audit records.\n");
  return Success();
}

void AddTenantsCommand(CLI::App& app, CommandContext& context, Action* action) {
  CLI::App* tenants = app.add_subcommand("tenants", "Manage the box's tenants and their tokens (owner only)");
  tenants->require_subcommand(1);
  auto args = std::make_shared<CreateArgs>();
  CLI::App* create = tenants->add_subcommand("create", "Create a tenant and print its token (once)");
  create->add_option("name", args->name, "Tenant name: lowercase letters, digits, '-'")->required();
  create->add_option("--max-devices", args->max_devices, "Devices its jobs hold at once (0: no limit)")->check(CLI::NonNegativeNumber);
  create->add_option("--max-queued", args->max_queued, "Its jobs waiting in QUEUED (0: no limit)")->check(CLI::NonNegativeNumber);
  create->add_option("--max-storage-bytes", args->max_storage_bytes, "Bytes of its datasets and checkpoints (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  create->add_option("--max-job-seconds", args->max_job_seconds, "Longest run of one of its jobs (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  create->callback([&context, action, args] { *action = [&context, args] { return RunCreate(context, *args); }; });
  CLI::App* list = tenants->add_subcommand("list", "List the tenants, their state and quotas");
  list->callback([&context, action] { *action = [&context] { return RunList(context); }; });
  auto name = std::make_shared<std::string>();
  CLI::App* revoke = tenants->add_subcommand("revoke", "Revoke a tenant's token at once (its jobs and datasets stay)");
  revoke->add_option("name", *name, "Tenant name")->required();
  revoke->callback([&context, action, name] { *action = [&context, name] { return RunRevoke(context, *name); }; });
}

}  // namespace

void AddTenantCommands(CLI::App& app, CommandContext& context, Action* action) {
  AddTenantsCommand(app, context, action);
  auto limit = std::make_shared<int>(100);
  CLI::App* audit = app.add_subcommand("audit", "Show the audit log of mutating calls, newest first (owner only)");
  audit->add_option("--limit", *limit, "At most this many records (1..1000)")->check(CLI::Range(1, 1000));
  audit->callback([&context, action, limit] { *action = [&context, limit] { return RunAudit(context, *limit); }; });
}

}  // namespace petabox::cli
