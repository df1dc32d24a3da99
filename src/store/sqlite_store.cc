#include "store/sqlite_store.h"

#include "common/crash_point.h"
#include "store/codec.h"
#include "store/space_reserve.h"

#include "common/log.h"
#include "common/process_health.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>

namespace tide::store {

namespace {

class SqliteTx;
// What moves the database from one version to the next: SQL, then (when set) a step that
// writes rows through the transaction's Tx, for rows the model builds (ids, documents).
struct Migration {
  Migration(const char* s, Status (*r)(SqliteTx&) = nullptr) : sql(s), rows(r) {}
  const char* sql;
  Status (*rows)(SqliteTx& tx);
};
Status seedDefaultNetwork(SqliteTx& tx);

// Schema migrations: entry i moves the database from version i to i + 1. Append only.
const Migration kMigrations[] = {
    R"sql(
CREATE TABLE images (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created INTEGER NOT NULL,
  doc TEXT NOT NULL
);
CREATE TABLE launch_templates (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  doc TEXT NOT NULL
);
CREATE TABLE launch_template_versions (
  template_id TEXT NOT NULL REFERENCES launch_templates(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (template_id, version)
);
CREATE TABLE instances (
  id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  state TEXT NOT NULL,
  doc TEXT NOT NULL
);
)sql",
    // 2: Elastic Load Balancing v2.
    R"sql(
CREATE TABLE load_balancers (
  arn TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  doc TEXT NOT NULL
);
CREATE TABLE listeners (
  arn TEXT PRIMARY KEY,
  load_balancer_arn TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE TABLE target_groups (
  arn TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  doc TEXT NOT NULL
);
CREATE TABLE targets (
  target_group_arn TEXT NOT NULL,
  target_id TEXT NOT NULL,
  port INTEGER NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (target_group_arn, target_id, port)
);
)sql",
    // 3: Auto Scaling, CloudWatch alarms, stacks.
    R"sql(
CREATE TABLE auto_scaling_groups (
  name TEXT PRIMARY KEY,
  doc TEXT NOT NULL
);
CREATE TABLE scaling_policies (
  arn TEXT PRIMARY KEY,
  group_name TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE TABLE scaling_activities (
  id TEXT PRIMARY KEY,
  group_name TEXT NOT NULL,
  start_time INTEGER NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX scaling_activities_by_group ON scaling_activities (group_name, start_time);
CREATE TABLE alarms (
  name TEXT PRIMARY KEY,
  doc TEXT NOT NULL
);
CREATE TABLE stacks (
  name TEXT PRIMARY KEY,
  doc TEXT NOT NULL
);
)sql",
    // 4: scaling activities say what they do (kind) and to which instance (instanceId), so that
    // no decision reads their descriptions. Activities written before are classified here, once,
    // from the descriptions tide wrote: "Launching a new EC2 instance: i-..." (or
    // "Launching a new EC2 instance.  Status Reason: ..." when the launch failed) and
    // "Terminating EC2 instance: i-...". Nothing else reads a description.
    R"sql(
UPDATE scaling_activities SET doc = json_set(doc,
  '$.kind', CASE
    WHEN json_extract(doc, '$.description') GLOB 'Launching a new EC2 instance*' THEN 'Launch'
    WHEN json_extract(doc, '$.description') GLOB 'Terminating EC2 instance: *' THEN 'Terminate'
    ELSE 'Other' END,
  '$.instanceId', CASE
    WHEN json_extract(doc, '$.description') GLOB 'Launching a new EC2 instance: *'
      THEN substr(json_extract(doc, '$.description'), 31)
    WHEN json_extract(doc, '$.description') GLOB 'Terminating EC2 instance: *'
      THEN substr(json_extract(doc, '$.description'), 27)
    ELSE '' END)
WHERE json_extract(doc, '$.kind') IS NULL;
)sql",
    // 5: stack events, and stacks whose deletion completed (kept for DescribeStacks by stack id
    // and ListStacks).
    R"sql(
CREATE TABLE IF NOT EXISTS stack_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  stack_id TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS stack_events_by_stack ON stack_events (stack_id, seq);
CREATE TABLE IF NOT EXISTS deleted_stacks (
  stack_id TEXT PRIMARY KEY,
  deletion_time INTEGER NOT NULL,
  doc TEXT NOT NULL
);
)sql",
    // 6: EC2 networking and key pairs, and the default network every account has (the default
    // VPC, one default subnet per zone, its default security group), made here so that it
    // exists, with ids that stay, before anyone asks. "IF NOT EXISTS": tests take databases
    // back to older versions with these tables present.
    {R"sql(
CREATE TABLE IF NOT EXISTS vpcs (
  id TEXT PRIMARY KEY,
  doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS subnets (
  id TEXT PRIMARY KEY,
  vpc_id TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS security_groups (
  id TEXT PRIMARY KEY,
  vpc_id TEXT NOT NULL,
  name TEXT NOT NULL,
  doc TEXT NOT NULL,
  UNIQUE (vpc_id, name)
);
CREATE TABLE IF NOT EXISTS key_pairs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  doc TEXT NOT NULL
);
)sql",
     seedDefaultNetwork},
    // 7: alarm history (DescribeAlarmHistory), kept apart from the alarms because it outlives
    // them; bounded by Tx::kMaxAlarmHistory per alarm and kMaxAlarmHistoryTotal in all.
    R"sql(
CREATE TABLE IF NOT EXISTS alarm_history (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  alarm_name TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alarm_history_by_alarm ON alarm_history (alarm_name, seq);
)sql",
    // 8: ACM certificates, with their private keys (the store is readable by its owner only).
    R"sql(
CREATE TABLE IF NOT EXISTS certificates (
  arn TEXT PRIMARY KEY,
  doc TEXT NOT NULL
);
)sql",
};
constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

// What a failed SQLite call says to tide's users, by its cause: a full file system, another
// connection holding the write lock, an I/O error. Always "InternalError" (state unchanged:
// the transaction is rolled back); the message names the cause and the file.
Status sqliteError(sqlite3* db, int rc, const std::string& what) {
  const char* file = sqlite3_db_filename(db, "main");
  std::string where = file != nullptr && *file != '\0' ? std::string(" (") + file + ")" : "";
  std::string detail = sqlite3_errmsg(db);
  switch (rc & 0xff) {
  case SQLITE_FULL:
    return internalError("store: " + what + " failed: the file system of the store" + where +
                         " is full; nothing was changed. Free space (DeregisterImage, "
                         "TerminateInstances, DeleteStack) and try again");
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return internalError("store: " + what + " failed: the store" + where +
                         " is busy (another connection holds its write lock); nothing was "
                         "changed, try again: " +
                         detail);
  case SQLITE_IOERR:
    return internalError("store: " + what + " failed: I/O error on the store" + where +
                         "; nothing was changed: " + detail);
  default:
    return internalError("store: " + what + " failed: " + detail);
  }
}

// A prepared statement, finalized on scope exit.
class Stmt {
public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool prepared() const { return rc_ == SQLITE_OK; }
  Stmt& bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  int step() { return sqlite3_step(stmt_); }
  std::string text(int col) {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }

private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

class SqliteTx final : public Tx {
public:
  explicit SqliteTx(sqlite3* db) : db_(db) {}
  bool wrote() const { return wrote_; }
  // The rows this transaction wrote (valid once it committed).
  ChangeSet& changes() { return changes_; }

  Result<std::optional<model::Image>> image(const std::string& id) override {
    return one<model::Image>("SELECT doc FROM images WHERE id = ?", id, decodeImage);
  }
  Result<std::optional<model::Image>> imageByName(const std::string& name) override {
    return one<model::Image>("SELECT doc FROM images WHERE name = ?", name, decodeImage);
  }
  Result<std::vector<model::Image>> images() override {
    return all<model::Image>("SELECT doc FROM images ORDER BY created, id", "", decodeImage);
  }
  Status putImage(const model::Image& v) override {
    return exec("INSERT INTO images (id, name, created, doc) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET name = excluded.name, doc = excluded.doc",
                {v.imageId, v.name}, {v.creationDate}, encodeImage(v), {Kind::Image, v.imageId});
  }
  Status deleteImage(const std::string& id) override {
    return exec("DELETE FROM images WHERE id = ?", {id}, {}, std::nullopt, {Kind::Image, id});
  }

  Result<std::optional<model::LaunchTemplate>> launchTemplate(const std::string& id) override {
    return one<model::LaunchTemplate>("SELECT doc FROM launch_templates WHERE id = ?", id,
                                      decodeLaunchTemplate);
  }
  Result<std::optional<model::LaunchTemplate>>
  launchTemplateByName(const std::string& name) override {
    return one<model::LaunchTemplate>("SELECT doc FROM launch_templates WHERE name = ?", name,
                                      decodeLaunchTemplate);
  }
  Result<std::vector<model::LaunchTemplate>> launchTemplates() override {
    return all<model::LaunchTemplate>("SELECT doc FROM launch_templates ORDER BY rowid", "",
                                      decodeLaunchTemplate);
  }
  Status putLaunchTemplate(const model::LaunchTemplate& v) override {
    // An upsert, not INSERT OR REPLACE: replacing would delete the row and cascade to versions.
    return exec("INSERT INTO launch_templates (id, name, doc) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET name = excluded.name, doc = excluded.doc",
                {v.launchTemplateId, v.launchTemplateName}, {}, encodeLaunchTemplate(v),
                {Kind::LaunchTemplate, v.launchTemplateId});
  }
  Status deleteLaunchTemplate(const std::string& id) override {
    TIDE_RETURN_IF_ERROR(noteRows(Kind::LaunchTemplateVersion,
                                  "SELECT template_id || ':' || version, template_id FROM "
                                  "launch_template_versions WHERE template_id = ?",
                                  id));
    TIDE_RETURN_IF_ERROR(
        exec("DELETE FROM launch_template_versions WHERE template_id = ?", {id}, {}, {}));
    return exec("DELETE FROM launch_templates WHERE id = ?", {id}, {}, std::nullopt,
                {Kind::LaunchTemplate, id});
  }

  Result<std::optional<model::LaunchTemplateVersion>>
  launchTemplateVersion(const std::string& templateId, int64_t version) override {
    Stmt st(db_, "SELECT doc FROM launch_template_versions WHERE template_id = ? AND version = ?");
    if (!st.prepared()) {
      return error("prepare");
    }
    st.bind(1, templateId).bind(2, version);
    int rc = st.step();
    if (rc == SQLITE_DONE) {
      return std::optional<model::LaunchTemplateVersion>();
    }
    if (rc != SQLITE_ROW) {
      return error("read");
    }
    TIDE_ASSIGN_OR_RETURN(model::LaunchTemplateVersion v, decodeLaunchTemplateVersion(st.text(0)));
    return std::optional<model::LaunchTemplateVersion>(std::move(v));
  }
  Result<std::vector<model::LaunchTemplateVersion>>
  launchTemplateVersions(const std::string& templateId) override {
    return all<model::LaunchTemplateVersion>(
        "SELECT doc FROM launch_template_versions WHERE template_id = ? ORDER BY version",
        templateId, decodeLaunchTemplateVersion);
  }
  Status insertLaunchTemplateVersion(const model::LaunchTemplateVersion& v) override {
    return exec("INSERT INTO launch_template_versions (template_id, version, doc) "
                "VALUES (?, ?, ?)",
                {v.launchTemplateId}, {v.versionNumber}, encodeLaunchTemplateVersion(v),
                {Kind::LaunchTemplateVersion,
                 v.launchTemplateId + ":" + std::to_string(v.versionNumber), v.launchTemplateId});
  }

  Result<std::optional<model::Instance>> instance(const std::string& id) override {
    return one<model::Instance>("SELECT doc FROM instances WHERE id = ?", id, decodeInstance);
  }
  Result<std::vector<model::Instance>> instances() override {
    return all<model::Instance>("SELECT doc FROM instances ORDER BY seq", "", decodeInstance);
  }
  Status putInstance(const model::Instance& v) override {
    // seq keeps the launch order stable across updates.
    return exec("INSERT INTO instances (id, seq, state, doc) VALUES (?, "
                "(SELECT COALESCE(MAX(seq), 0) + 1 FROM instances), ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET state = excluded.state, doc = excluded.doc",
                {v.instanceId, std::string(stateText(v.state))}, {}, encodeInstance(v),
                {Kind::Instance, v.instanceId, v.autoScalingGroupName});
  }
  Status deleteInstance(const std::string& id) override {
    TIDE_ASSIGN_OR_RETURN(auto gone, instance(id));
    return exec("DELETE FROM instances WHERE id = ?", {id}, {}, std::nullopt,
                {Kind::Instance, id, gone ? gone->autoScalingGroupName : ""});
  }

  Result<std::optional<model::LoadBalancer>> loadBalancer(const std::string& arn) override {
    return one<model::LoadBalancer>("SELECT doc FROM load_balancers WHERE arn = ?", arn,
                                    decodeLoadBalancer);
  }
  Result<std::optional<model::LoadBalancer>> loadBalancerByName(const std::string& name) override {
    return one<model::LoadBalancer>("SELECT doc FROM load_balancers WHERE name = ?", name,
                                    decodeLoadBalancer);
  }
  Result<std::vector<model::LoadBalancer>> loadBalancers() override {
    return all<model::LoadBalancer>("SELECT doc FROM load_balancers ORDER BY rowid", "",
                                    decodeLoadBalancer);
  }
  Status putLoadBalancer(const model::LoadBalancer& v) override {
    return exec("INSERT INTO load_balancers (arn, name, doc) VALUES (?, ?, ?) "
                "ON CONFLICT(arn) DO UPDATE SET name = excluded.name, doc = excluded.doc",
                {v.loadBalancerArn, v.loadBalancerName}, {}, encodeLoadBalancer(v),
                {Kind::LoadBalancer, v.loadBalancerArn});
  }
  Status deleteLoadBalancer(const std::string& arn) override {
    TIDE_RETURN_IF_ERROR(
        noteRows(Kind::Listener,
                 "SELECT arn, load_balancer_arn FROM listeners WHERE load_balancer_arn = ?", arn));
    TIDE_RETURN_IF_ERROR(
        exec("DELETE FROM listeners WHERE load_balancer_arn = ?", {arn}, {}, std::nullopt));
    return exec("DELETE FROM load_balancers WHERE arn = ?", {arn}, {}, std::nullopt,
                {Kind::LoadBalancer, arn});
  }

  Result<std::optional<model::Listener>> listener(const std::string& arn) override {
    return one<model::Listener>("SELECT doc FROM listeners WHERE arn = ?", arn, decodeListener);
  }
  Result<std::vector<model::Listener>> listeners() override {
    return all<model::Listener>("SELECT doc FROM listeners ORDER BY rowid", "", decodeListener);
  }
  Status putListener(const model::Listener& v) override {
    return exec("INSERT INTO listeners (arn, load_balancer_arn, doc) VALUES (?, ?, ?) "
                "ON CONFLICT(arn) DO UPDATE SET doc = excluded.doc",
                {v.listenerArn, v.loadBalancerArn}, {}, encodeListener(v),
                {Kind::Listener, v.listenerArn, v.loadBalancerArn});
  }
  Status deleteListener(const std::string& arn) override {
    TIDE_RETURN_IF_ERROR(noteRows(
        Kind::Listener, "SELECT arn, load_balancer_arn FROM listeners WHERE arn = ?", arn));
    return exec("DELETE FROM listeners WHERE arn = ?", {arn}, {}, std::nullopt);
  }

  Result<std::optional<model::TargetGroup>> targetGroup(const std::string& arn) override {
    return one<model::TargetGroup>("SELECT doc FROM target_groups WHERE arn = ?", arn,
                                   decodeTargetGroup);
  }
  Result<std::optional<model::TargetGroup>> targetGroupByName(const std::string& name) override {
    return one<model::TargetGroup>("SELECT doc FROM target_groups WHERE name = ?", name,
                                   decodeTargetGroup);
  }
  Result<std::vector<model::TargetGroup>> targetGroups() override {
    return all<model::TargetGroup>("SELECT doc FROM target_groups ORDER BY rowid", "",
                                   decodeTargetGroup);
  }
  Status putTargetGroup(const model::TargetGroup& v) override {
    return exec("INSERT INTO target_groups (arn, name, doc) VALUES (?, ?, ?) "
                "ON CONFLICT(arn) DO UPDATE SET name = excluded.name, doc = excluded.doc",
                {v.targetGroupArn, v.targetGroupName}, {}, encodeTargetGroup(v),
                {Kind::TargetGroup, v.targetGroupArn});
  }
  Status deleteTargetGroup(const std::string& arn) override {
    TIDE_RETURN_IF_ERROR(noteRows(Kind::Target,
                                  "SELECT target_id || ':' || port, target_group_arn FROM targets "
                                  "WHERE target_group_arn = ?",
                                  arn));
    TIDE_RETURN_IF_ERROR(
        exec("DELETE FROM targets WHERE target_group_arn = ?", {arn}, {}, std::nullopt));
    return exec("DELETE FROM target_groups WHERE arn = ?", {arn}, {}, std::nullopt,
                {Kind::TargetGroup, arn});
  }

  Result<std::vector<model::Target>> targets(const std::string& targetGroupArn) override {
    if (targetGroupArn.empty()) {
      return all<model::Target>("SELECT doc FROM targets ORDER BY rowid", "", decodeTarget);
    }
    return all<model::Target>("SELECT doc FROM targets WHERE target_group_arn = ? ORDER BY rowid",
                              targetGroupArn, decodeTarget);
  }
  Status putTarget(const model::Target& v) override {
    return exec("INSERT INTO targets (target_group_arn, target_id, port, doc) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(target_group_arn, target_id, port) DO UPDATE SET doc = excluded.doc",
                {v.targetGroupArn, v.id}, {v.port}, encodeTarget(v), targetChange(v));
  }
  Status deleteTarget(const model::Target& v) override {
    return exec("DELETE FROM targets WHERE target_group_arn = ? AND target_id = ? AND port = ?",
                {v.targetGroupArn, v.id}, {v.port}, std::nullopt, targetChange(v));
  }

  Result<std::optional<model::AutoScalingGroup>>
  autoScalingGroup(const std::string& name) override {
    return one<model::AutoScalingGroup>("SELECT doc FROM auto_scaling_groups WHERE name = ?", name,
                                        decodeAutoScalingGroup);
  }
  Result<std::vector<model::AutoScalingGroup>> autoScalingGroups() override {
    return all<model::AutoScalingGroup>("SELECT doc FROM auto_scaling_groups ORDER BY rowid", "",
                                        decodeAutoScalingGroup);
  }
  Status putAutoScalingGroup(const model::AutoScalingGroup& v) override {
    return exec("INSERT INTO auto_scaling_groups (name, doc) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET doc = excluded.doc",
                {v.autoScalingGroupName}, {}, encodeAutoScalingGroup(v),
                {Kind::AutoScalingGroup, v.autoScalingGroupName});
  }
  Status deleteAutoScalingGroup(const std::string& name) override {
    TIDE_RETURN_IF_ERROR(
        noteRows(Kind::ScalingPolicy,
                 "SELECT arn, group_name FROM scaling_policies WHERE group_name = ?", name));
    TIDE_RETURN_IF_ERROR(
        noteRows(Kind::ScalingActivity,
                 "SELECT id, group_name FROM scaling_activities WHERE group_name = ?", name));
    TIDE_RETURN_IF_ERROR(
        exec("DELETE FROM scaling_policies WHERE group_name = ?", {name}, {}, std::nullopt));
    TIDE_RETURN_IF_ERROR(
        exec("DELETE FROM scaling_activities WHERE group_name = ?", {name}, {}, std::nullopt));
    return exec("DELETE FROM auto_scaling_groups WHERE name = ?", {name}, {}, std::nullopt,
                {Kind::AutoScalingGroup, name});
  }

  Result<std::vector<model::ScalingPolicy>> scalingPolicies(const std::string& groupName) override {
    if (groupName.empty()) {
      return all<model::ScalingPolicy>("SELECT doc FROM scaling_policies ORDER BY rowid", "",
                                       decodeScalingPolicy);
    }
    return all<model::ScalingPolicy>(
        "SELECT doc FROM scaling_policies WHERE group_name = ? ORDER BY rowid", groupName,
        decodeScalingPolicy);
  }
  Status putScalingPolicy(const model::ScalingPolicy& v) override {
    return exec("INSERT INTO scaling_policies (arn, group_name, doc) VALUES (?, ?, ?) "
                "ON CONFLICT(arn) DO UPDATE SET doc = excluded.doc",
                {v.policyArn, v.autoScalingGroupName}, {}, encodeScalingPolicy(v),
                {Kind::ScalingPolicy, v.policyArn, v.autoScalingGroupName});
  }
  Status deleteScalingPolicy(const std::string& arn) override {
    TIDE_RETURN_IF_ERROR(noteRows(
        Kind::ScalingPolicy, "SELECT arn, group_name FROM scaling_policies WHERE arn = ?", arn));
    return exec("DELETE FROM scaling_policies WHERE arn = ?", {arn}, {}, std::nullopt);
  }

  Result<std::vector<model::ScalingActivity>> scalingActivities(const std::string& groupName,
                                                                int limit) override {
    std::string sql = "SELECT doc FROM scaling_activities WHERE group_name = ? "
                      "ORDER BY start_time DESC, rowid DESC LIMIT " +
                      std::to_string(std::max(limit, 0));
    return all<model::ScalingActivity>(sql.c_str(), groupName, decodeScalingActivity);
  }
  Status putScalingActivity(const model::ScalingActivity& v) override {
    return exec("INSERT INTO scaling_activities (id, group_name, start_time, doc) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
                {v.activityId, v.autoScalingGroupName}, {v.startTime}, encodeScalingActivity(v),
                {Kind::ScalingActivity, v.activityId, v.autoScalingGroupName});
  }

  Result<std::optional<model::MetricAlarm>> alarm(const std::string& name) override {
    return one<model::MetricAlarm>("SELECT doc FROM alarms WHERE name = ?", name, decodeAlarm);
  }
  Result<std::vector<model::MetricAlarm>> alarms() override {
    return all<model::MetricAlarm>("SELECT doc FROM alarms ORDER BY name", "", decodeAlarm);
  }
  Status putAlarm(const model::MetricAlarm& v) override {
    return exec("INSERT INTO alarms (name, doc) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET doc = excluded.doc",
                {v.alarmName}, {}, encodeAlarm(v), {Kind::Alarm, v.alarmName});
  }
  Status deleteAlarm(const std::string& name) override {
    return exec("DELETE FROM alarms WHERE name = ?", {name}, {}, std::nullopt, {Kind::Alarm, name});
  }

  Result<std::optional<model::Stack>> stack(const std::string& name) override {
    return one<model::Stack>("SELECT doc FROM stacks WHERE name = ?", name, decodeStack);
  }
  Result<std::vector<model::Stack>> stacks() override {
    return all<model::Stack>("SELECT doc FROM stacks ORDER BY rowid", "", decodeStack);
  }
  Status putStack(const model::Stack& v) override {
    return exec("INSERT INTO stacks (name, doc) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET doc = excluded.doc",
                {v.stackName}, {}, encodeStack(v), {Kind::Stack, v.stackName});
  }
  Status deleteStack(const std::string& name) override {
    return exec("DELETE FROM stacks WHERE name = ?", {name}, {}, std::nullopt, {Kind::Stack, name});
  }

  Result<std::vector<model::AlarmHistoryItem>> alarmHistory(const std::string& alarmName) override {
    if (alarmName.empty()) {
      return all<model::AlarmHistoryItem>("SELECT doc FROM alarm_history ORDER BY seq DESC", "",
                                          decodeAlarmHistoryItem);
    }
    return all<model::AlarmHistoryItem>("SELECT doc FROM alarm_history WHERE alarm_name = ? "
                                        "ORDER BY seq DESC",
                                        alarmName, decodeAlarmHistoryItem);
  }
  Status putAlarmHistoryItem(const model::AlarmHistoryItem& v) override {
    TIDE_RETURN_IF_ERROR(exec("INSERT INTO alarm_history (alarm_name, doc) VALUES (?, ?)",
                              {v.alarmName}, {}, encodeAlarmHistoryItem(v)));
    TIDE_RETURN_IF_ERROR(exec("DELETE FROM alarm_history WHERE alarm_name = ?1 AND seq <= "
                              "(SELECT seq FROM alarm_history WHERE alarm_name = ?1 "
                              "ORDER BY seq DESC LIMIT 1 OFFSET ?2)",
                              {v.alarmName}, {kMaxAlarmHistory}, std::nullopt));
    return exec("DELETE FROM alarm_history WHERE seq <= (SELECT seq FROM alarm_history "
                "ORDER BY seq DESC LIMIT 1 OFFSET ?1)",
                {}, {kMaxAlarmHistoryTotal}, std::nullopt);
  }
  Result<std::vector<model::StackEvent>> stackEvents(const std::string& stackId) override {
    return all<model::StackEvent>("SELECT doc FROM stack_events WHERE stack_id = ? "
                                  "ORDER BY seq DESC",
                                  stackId, decodeStackEvent);
  }
  Status putStackEvent(const model::StackEvent& v) override {
    TIDE_RETURN_IF_ERROR(exec("INSERT INTO stack_events (stack_id, doc) VALUES (?, ?)", {v.stackId},
                              {}, encodeStackEvent(v)));
    return exec("DELETE FROM stack_events WHERE stack_id = ?1 AND seq <= (SELECT seq FROM "
                "stack_events WHERE stack_id = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2)",
                {v.stackId}, {kMaxStackEvents}, std::nullopt);
  }
  Result<std::vector<model::Stack>> deletedStacks() override {
    return all<model::Stack>(
        "SELECT doc FROM deleted_stacks ORDER BY deletion_time DESC, rowid DESC", "", decodeStack);
  }
  Status putDeletedStack(const model::Stack& v) override {
    TIDE_RETURN_IF_ERROR(exec("INSERT INTO deleted_stacks (stack_id, deletion_time, doc) "
                              "VALUES (?, ?, ?) ON CONFLICT(stack_id) DO UPDATE SET "
                              "doc = excluded.doc, deletion_time = excluded.deletion_time",
                              {v.stackId}, {v.deletionTime}, encodeStack(v),
                              {Kind::Stack, v.stackName}));
    const char* kept = "SELECT stack_id FROM deleted_stacks "
                       "ORDER BY deletion_time DESC, rowid DESC LIMIT ?1";
    TIDE_RETURN_IF_ERROR(exec((std::string("DELETE FROM stack_events WHERE stack_id IN (SELECT "
                                           "stack_id FROM deleted_stacks) AND stack_id NOT IN (") +
                               kept + ")")
                                  .c_str(),
                              {}, {kMaxDeletedStacks}, std::nullopt));
    return exec(
        (std::string("DELETE FROM deleted_stacks WHERE stack_id NOT IN (") + kept + ")").c_str(),
        {}, {kMaxDeletedStacks}, std::nullopt);
  }

  Result<std::optional<model::Vpc>> vpc(const std::string& id) override {
    return one<model::Vpc>("SELECT doc FROM vpcs WHERE id = ?", id, decodeVpc);
  }
  Result<std::vector<model::Vpc>> vpcs() override {
    return all<model::Vpc>("SELECT doc FROM vpcs ORDER BY rowid", "", decodeVpc);
  }
  Status putVpc(const model::Vpc& v) override {
    return exec("INSERT INTO vpcs (id, doc) VALUES (?, ?) "
                "ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
                {v.vpcId}, {}, encodeVpc(v), {Kind::Vpc, v.vpcId});
  }
  Status deleteVpc(const std::string& id) override {
    return exec("DELETE FROM vpcs WHERE id = ?", {id}, {}, std::nullopt, {Kind::Vpc, id});
  }

  Result<std::optional<model::Subnet>> subnet(const std::string& id) override {
    return one<model::Subnet>("SELECT doc FROM subnets WHERE id = ?", id, decodeSubnet);
  }
  Result<std::vector<model::Subnet>> subnets(const std::string& vpcId) override {
    if (vpcId.empty()) {
      return all<model::Subnet>("SELECT doc FROM subnets ORDER BY rowid", "", decodeSubnet);
    }
    return all<model::Subnet>("SELECT doc FROM subnets WHERE vpc_id = ? ORDER BY rowid", vpcId,
                              decodeSubnet);
  }
  Status putSubnet(const model::Subnet& v) override {
    return exec("INSERT INTO subnets (id, vpc_id, doc) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
                {v.subnetId, v.vpcId}, {}, encodeSubnet(v), {Kind::Subnet, v.subnetId, v.vpcId});
  }
  Status deleteSubnet(const std::string& id) override {
    TIDE_RETURN_IF_ERROR(noteRows(Kind::Subnet, "SELECT id, vpc_id FROM subnets WHERE id = ?", id));
    return exec("DELETE FROM subnets WHERE id = ?", {id}, {}, std::nullopt);
  }

  Result<std::optional<model::SecurityGroup>> securityGroup(const std::string& id) override {
    return one<model::SecurityGroup>("SELECT doc FROM security_groups WHERE id = ?", id,
                                     decodeSecurityGroup);
  }
  Result<std::vector<model::SecurityGroup>> securityGroups(const std::string& vpcId) override {
    if (vpcId.empty()) {
      return all<model::SecurityGroup>("SELECT doc FROM security_groups ORDER BY rowid", "",
                                       decodeSecurityGroup);
    }
    return all<model::SecurityGroup>(
        "SELECT doc FROM security_groups WHERE vpc_id = ? ORDER BY rowid", vpcId,
        decodeSecurityGroup);
  }
  Status putSecurityGroup(const model::SecurityGroup& v) override {
    return exec("INSERT INTO security_groups (id, vpc_id, name, doc) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET name = excluded.name, doc = excluded.doc",
                {v.groupId, v.vpcId, v.groupName}, {}, encodeSecurityGroup(v),
                {Kind::SecurityGroup, v.groupId, v.vpcId});
  }
  Status deleteSecurityGroup(const std::string& id) override {
    TIDE_RETURN_IF_ERROR(
        noteRows(Kind::SecurityGroup, "SELECT id, vpc_id FROM security_groups WHERE id = ?", id));
    return exec("DELETE FROM security_groups WHERE id = ?", {id}, {}, std::nullopt);
  }

  Result<std::optional<model::KeyPair>> keyPair(const std::string& id) override {
    return one<model::KeyPair>("SELECT doc FROM key_pairs WHERE id = ?", id, decodeKeyPair);
  }
  Result<std::optional<model::KeyPair>> keyPairByName(const std::string& name) override {
    return one<model::KeyPair>("SELECT doc FROM key_pairs WHERE name = ?", name, decodeKeyPair);
  }
  Result<std::vector<model::KeyPair>> keyPairs() override {
    return all<model::KeyPair>("SELECT doc FROM key_pairs ORDER BY rowid", "", decodeKeyPair);
  }
  Status putKeyPair(const model::KeyPair& v) override {
    return exec("INSERT INTO key_pairs (id, name, doc) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET name = excluded.name, doc = excluded.doc",
                {v.keyPairId, v.keyName}, {}, encodeKeyPair(v), {Kind::KeyPair, v.keyPairId});
  }
  Status deleteKeyPair(const std::string& id) override {
    return exec("DELETE FROM key_pairs WHERE id = ?", {id}, {}, std::nullopt, {Kind::KeyPair, id});
  }

  Result<std::optional<model::Certificate>> certificate(const std::string& arn) override {
    return one<model::Certificate>("SELECT doc FROM certificates WHERE arn = ?", arn,
                                   decodeCertificate);
  }
  Result<std::vector<model::Certificate>> certificates() override {
    return all<model::Certificate>("SELECT doc FROM certificates ORDER BY rowid", "",
                                   decodeCertificate);
  }
  Status putCertificate(const model::Certificate& v) override {
    return exec("INSERT INTO certificates (arn, doc) VALUES (?, ?) "
                "ON CONFLICT(arn) DO UPDATE SET doc = excluded.doc",
                {v.certificateArn}, {}, encodeCertificate(v),
                {Kind::Certificate, v.certificateArn});
  }
  Status deleteCertificate(const std::string& arn) override {
    return exec("DELETE FROM certificates WHERE arn = ?", {arn}, {}, std::nullopt,
                {Kind::Certificate, arn});
  }

private:
  static const char* stateText(model::InstanceState s) {
    static const char* kNames[] = {"pending",    "running",  "shutting-down",
                                   "terminated", "stopping", "stopped"};
    return kNames[static_cast<int>(s)];
  }

  Status error(const char* what) { return sqliteError(db_, sqlite3_extended_errcode(db_), what); }

  template <typename T, typename Decode>
  Result<std::optional<T>> one(const char* sql, const std::string& key, Decode decode) {
    Stmt st(db_, sql);
    if (!st.prepared()) {
      return error("prepare");
    }
    st.bind(1, key);
    int rc = st.step();
    if (rc == SQLITE_DONE) {
      return std::optional<T>();
    }
    if (rc != SQLITE_ROW) {
      return error("read");
    }
    TIDE_ASSIGN_OR_RETURN(T v, decode(st.text(0)));
    return std::optional<T>(std::move(v));
  }

  template <typename T, typename Decode>
  Result<std::vector<T>> all(const char* sql, const std::string& key, Decode decode) {
    Stmt st(db_, sql);
    if (!st.prepared()) {
      return error("prepare");
    }
    if (!key.empty()) {
      st.bind(1, key);
    }
    std::vector<T> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) {
      TIDE_ASSIGN_OR_RETURN(T v, decode(st.text(0)));
      out.push_back(std::move(v));
    }
    if (rc != SQLITE_DONE) {
      return error("read");
    }
    return out;
  }

  static Change targetChange(const model::Target& v) {
    return {Kind::Target, v.id + ":" + std::to_string(v.port), v.targetGroupArn};
  }

  // Notes as changed the rows `sql` selects (columns: key, parent) with `key` bound: the rows a
  // delete is about to remove along with its own.
  Status noteRows(Kind kind, const char* sql, const std::string& key) {
    Stmt st(db_, sql);
    if (!st.prepared()) {
      return error("prepare");
    }
    st.bind(1, key);
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) {
      pending_.push_back({kind, st.text(0), st.text(1)});
    }
    return rc == SQLITE_DONE ? Status::ok() : error("read");
  }

  // exec() that also notes `change` as written when the statement changed a row.
  Status exec(const char* sql, std::initializer_list<std::string> texts,
              std::initializer_list<int64_t> ints, std::optional<std::string> doc, Change change) {
    TIDE_RETURN_IF_ERROR(exec(sql, texts, ints, std::move(doc)));
    if (sqlite3_changes(db_) > 0) {
      changes_.add(change.kind, std::move(change.key), std::move(change.parent));
    }
    return Status::ok();
  }

  // Binds the texts, then the integers, then the document (when given), in that order. When it
  // changed rows, notes the rows noteRows() found for it as written.
  Status exec(const char* sql, std::initializer_list<std::string> texts,
              std::initializer_list<int64_t> ints, std::optional<std::string> doc) {
    Stmt st(db_, sql);
    if (!st.prepared()) {
      return error("prepare");
    }
    int i = 1;
    for (const std::string& t : texts) {
      st.bind(i++, t);
    }
    for (int64_t v : ints) {
      st.bind(i++, v);
    }
    if (doc) {
      st.bind(i++, *doc);
    }
    if (st.step() != SQLITE_DONE) {
      pending_.clear();
      return error("write");
    }
    wrote_ = true;
    if (sqlite3_changes(db_) > 0) {
      for (Change& c : pending_) {
        changes_.add(c.kind, std::move(c.key), std::move(c.parent));
      }
      pending_.clear();
    }
    return Status::ok();
  }

  sqlite3* db_;
  bool wrote_ = false;
  ChangeSet changes_;
  std::vector<Change> pending_; // rows noteRows() found, recorded once the delete ran
};

// Migration 6's rows: the default network, unless the database has VPCs already (it was taken
// back to an older version with its tables kept).
Status seedDefaultNetwork(SqliteTx& tx) {
  TIDE_ASSIGN_OR_RETURN(auto existing, tx.vpcs());
  if (!existing.empty()) {
    return Status::ok();
  }
  TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  model::DefaultNetwork n = model::defaultNetwork(now);
  TIDE_RETURN_IF_ERROR(tx.putVpc(n.vpc));
  for (const model::Subnet& s : n.subnets) {
    TIDE_RETURN_IF_ERROR(tx.putSubnet(s));
  }
  return tx.putSecurityGroup(n.defaultGroup);
}

class SqliteStore final : public Store {
public:
  SqliteStore(sqlite3* db, std::string path, const SqliteStoreOptions& options)
      : db_(db), path_(std::move(path)), options_(options),
        reserve_(reservePathFor(path_), options.reserveBytes) {}
  ~SqliteStore() override { sqlite3_close(db_); }

  Status migrate() {
    TIDE_RETURN_IF_ERROR(run("PRAGMA journal_mode = WAL"));
    TIDE_RETURN_IF_ERROR(run("PRAGMA synchronous = NORMAL"));
    TIDE_RETURN_IF_ERROR(run("PRAGMA foreign_keys = ON"));
    sqlite3_busy_timeout(db_, options_.busyTimeoutMs);
    int version = 0;
    {
      Stmt st(db_, "PRAGMA user_version");
      if (!st.prepared() || st.step() != SQLITE_ROW) {
        return internalError(path_ + " is not a tide database: " + sqlite3_errmsg(db_));
      }
      version = std::stoi(st.text(0));
    }
    if (version > kSchemaVersion) {
      return internalError(path_ + " has schema version " + std::to_string(version) +
                           ", newer than this tide knows (" + std::to_string(kSchemaVersion) +
                           "): use a newer tide");
    }
    for (int v = version; v < kSchemaVersion; ++v) {
      TIDE_RETURN_IF_ERROR(run("BEGIN IMMEDIATE"));
      Status s = run(kMigrations[v].sql);
      if (s.isOk() && kMigrations[v].rows != nullptr) {
        SqliteTx tx(db_);
        s = kMigrations[v].rows(tx);
      }
      if (s.isOk()) {
        s = run(("PRAGMA user_version = " + std::to_string(v + 1)).c_str());
      }
      if (!s.isOk()) {
        run("ROLLBACK").ignoreError(); // already failing: s says why
        return internalError("migrating " + path_ + " to schema version " + std::to_string(v + 1) +
                             " failed: " + s.message());
      }
      TIDE_RETURN_IF_ERROR(run("COMMIT"));
    }
    return Status::ok();
  }

  Status transact(const std::function<Status(Tx&)>& fn, bool notify) override {
    bool wrote = false;
    ChangeSet changes;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // A nearly full file system: give a step of the reserve back first, so that this
      // transaction (a delete that frees space, most likely) can commit.
      if (reserve_.spendIfLow()) {
        logWarn("the file system of " + path_ +
                " is nearly full: " + std::to_string(reserve_.heldBytes() >> 10) +
                " KiB of its reserve for deletes left; launches and image imports are refused "
                "until space is freed");
      }
      TIDE_RETURN_IF_ERROR(begin());
      SqliteTx tx(db_);
      Status s = fn(tx);
      if (!s.isOk()) {
        run("ROLLBACK").ignoreError(); // already failing: s says why
        return s;
      }
      if (tx.wrote()) {
        TIDE_CRASH_POINT("store.commit.before");
      }
      Status c = commit();
      if (!c.isOk()) {
        run("ROLLBACK").ignoreError(); // already failing: c says why
        return c;
      }
      wrote = tx.wrote();
      if (wrote) {
        TIDE_CRASH_POINT("store.commit.after");
      }
      writeCommits_ += wrote ? 1 : 0;
      changes = std::move(tx.changes());
      if (reserve_.refillIfRoom()) {
        logInfo("the file system of " + path_ +
                " has room again: its reserve for deletes is whole");
      }
    }
    if (wrote && notify) {
      for (const auto& l : listeners_) {
        l(changes);
      }
    }
    return Status::ok();
  }

  using Store::onChange;
  void onChange(std::function<void(const ChangeSet&)> listener) override {
    listeners_.push_back(std::move(listener));
  }

  uint64_t writeCommits() const override { return writeCommits_.load(); }

private:
  // The SQL's result code. A test's fault hook may answer instead, without running the SQL.
  int exec(const char* sql, std::string* message) {
    char* err = nullptr;
    int rc = options_.faultHook ? options_.faultHook(sql) : SQLITE_OK;
    if (rc != SQLITE_OK) {
      *message = std::string("injected: ") + sqlite3_errstr(rc);
      return rc;
    }
    rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      *message = err ? err : sqlite3_errmsg(db_);
    }
    sqlite3_free(err);
    return rc;
  }

  Status run(const char* sql) {
    std::string msg;
    int rc = exec(sql, &msg);
    return rc == SQLITE_OK ? Status::ok()
                           : sqliteError(db_, rc, std::string(sql) + " (" + msg + ")");
  }

  // BEGIN IMMEDIATE takes the write lock. While another connection holds it, SQLite waits up to
  // the busy timeout; a few more tries after that, then the caller gets InternalError (the
  // API's answer; controllers try again at their next pass). Nothing has run yet, so retrying
  // is safe.
  Status begin() {
    std::string msg;
    int rc = SQLITE_OK;
    for (int attempt = 0; attempt < std::max(1, options_.beginAttempts); ++attempt) {
      rc = exec("BEGIN IMMEDIATE", &msg);
      if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) {
        break;
      }
    }
    return rc == SQLITE_OK ? Status::ok()
                           : sqliteError(db_, rc, "starting a transaction (" + msg + ")");
  }

  // COMMIT, spending the reserve and trying again when the file system is full (the
  // transaction stays open when SQLite could not write it), and trying again a bounded number
  // of times when busy.
  Status commit() {
    ScopedDuration timed(HealthTimer::StoreCommit, ""); // /metrics
    std::string msg;
    int rc = SQLITE_OK;
    for (int attempt = 0; attempt < 3; ++attempt) {
      rc = exec("COMMIT", &msg);
      if (rc == SQLITE_OK || sqlite3_get_autocommit(db_) != 0) {
        break; // committed, or rolled back by SQLite: nothing more to try
      }
      if ((rc & 0xff) == SQLITE_FULL) {
        if (!reserve_.spend()) {
          break;
        }
        logWarn("the file system of " + path_ +
                " is full: a step of its reserve for deletes is "
                "given back");
      } else if ((rc & 0xff) != SQLITE_BUSY) {
        break;
      }
    }
    return rc == SQLITE_OK ? Status::ok() : sqliteError(db_, rc, "commit (" + msg + ")");
  }

  sqlite3* db_;
  std::string path_;
  SqliteStoreOptions options_;
  SpaceReserve reserve_;
  std::mutex mu_;
  std::atomic<uint64_t> writeCommits_{0};
  std::vector<std::function<void(const ChangeSet&)>> listeners_;
};

} // namespace

int currentSchemaVersion() {
  return kSchemaVersion;
}

Result<std::unique_ptr<Store>> openSqliteStore(const std::string& path) {
  return openSqliteStore(path, SqliteStoreOptions{});
}

Result<std::unique_ptr<Store>> openSqliteStore(const std::string& path,
                                               const SqliteStoreOptions& options) {
  // The store holds secrets (user data, key material, environment values): readable by its
  // owner only. SQLite gives its -wal and -shm files the database file's mode, so the file is
  // made (or an older one tightened) 0600 before SQLite opens it.
  if (path != ":memory:" && !path.empty()) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      return internalError("cannot open the store " + path + ": " + std::strerror(errno));
    }
    int rc = ::fchmod(fd, 0600);
    int err = errno;
    ::close(fd);
    if (rc != 0) {
      return internalError("cannot make the store " + path + " private: " + std::strerror(err));
    }
    for (const char* suffix : {"-wal", "-shm", "-journal"}) {
      ::chmod((path + suffix).c_str(), 0600); // (left by an older tide; absent is fine)
    }
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           options.vfs.empty() ? nullptr : options.vfs.c_str());
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return internalError("cannot open the store " + path + ": " + msg);
  }
  SqliteStoreOptions o = options;
  if (path == ":memory:" || path.empty()) {
    o.reserveBytes = 0;
  }
  auto store = std::make_unique<SqliteStore>(db, path, o);
  Status s = store->migrate();
  if (!s.isOk()) {
    if (s.message().find(path) == std::string::npos) {
      return internalError("cannot use the store " + path + ": " + s.message());
    }
    return s;
  }
  return std::unique_ptr<Store>(std::move(store));
}

} // namespace tide::store
