#include "common/status_testing.h"
#include "store/codec.h"
#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace tide::store {
namespace {

namespace fs = std::filesystem;

class SqliteStoreTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tide-store-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "state.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Store> open() {
    auto s = openSqliteStore(path_);
    EXPECT_TRUE(s.isOk()) << s.status().toString();
    return std::move(*s);
  }

  fs::path dir_;
  std::string path_;
};

model::Image image(const std::string& id, const std::string& name) {
  model::Image img;
  img.imageId = id;
  img.name = name;
  img.runCommand = "python3 server.py";
  img.creationDate = 1000;
  return img;
}

TEST_F(SqliteStoreTest, KeepsEverythingAcrossReopen) {
  {
    auto store = open();
    ASSERT_TRUE(store
                    ->transact([](Tx& tx) {
                      TIDE_RETURN_IF_ERROR(tx.putImage(image("ami-00000000000000001", "a")));
                      model::LaunchTemplate lt;
                      lt.launchTemplateId = "lt-00000000000000001";
                      lt.launchTemplateName = "web";
                      TIDE_RETURN_IF_ERROR(tx.putLaunchTemplate(lt));
                      model::LaunchTemplateVersion v;
                      v.launchTemplateId = lt.launchTemplateId;
                      v.versionNumber = 1;
                      v.data.port = 9000;
                      v.data.environment = {{"MODE", "test"}};
                      TIDE_RETURN_IF_ERROR(tx.insertLaunchTemplateVersion(v));
                      model::Instance i;
                      i.instanceId = "i-00000000000000001";
                      i.state = model::InstanceState::Running;
                      i.pid = 42;
                      return tx.putInstance(i);
                    })
                    .isOk());
  }
  auto store = open();
  ASSERT_TRUE(store
                  ->transact([](Tx& tx) {
                    auto img = tx.imageByName("a");
                    EXPECT_TRUE(img.isOk() && img->has_value());
                    EXPECT_EQ((*img)->runCommand, "python3 server.py");
                    auto v = tx.launchTemplateVersion("lt-00000000000000001", 1);
                    EXPECT_TRUE(v.isOk() && v->has_value());
                    EXPECT_EQ((*v)->data.port, 9000);
                    EXPECT_EQ((*v)->data.environment.size(), 1u);
                    auto i = tx.instance("i-00000000000000001");
                    EXPECT_TRUE(i.isOk() && i->has_value());
                    EXPECT_EQ((*i)->state, model::InstanceState::Running);
                    EXPECT_EQ((*i)->pid, 42);
                    return Status::ok();
                  })
                  .isOk());
}

TEST_F(SqliteStoreTest, TheStoreAndItsJournalFilesAreReadableByTheirOwnerOnly) {
  {
    std::ofstream(path_) << ""; // an older tide's store, made 0644
    fs::permissions(path_, fs::perms(0644));
  }
  auto store = open();
  ASSERT_TRUE(
      store->transact([](Tx& tx) { return tx.putImage(image("ami-00000000000000001", "a")); })
          .isOk());
  int checked = 0;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    fs::path p = path_ + suffix;
    if (!fs::exists(p)) {
      continue;
    }
    ++checked;
    EXPECT_EQ(fs::status(p).permissions() & (fs::perms::group_all | fs::perms::others_all),
              fs::perms::none)
        << p;
  }
  EXPECT_GE(checked, 2); // the database and its write-ahead log at least
}

TEST_F(SqliteStoreTest, FailedTransactionChangesNothing) {
  auto store = open();
  int notified = 0;
  store->onChange([&] { ++notified; });
  Status s = store->transact([](Tx& tx) {
    TIDE_RETURN_IF_ERROR(tx.putImage(image("ami-00000000000000001", "a")));
    return Status("InvalidParameterValue", "second step failed");
  });
  EXPECT_EQ(s.code(), "InvalidParameterValue");
  EXPECT_EQ(notified, 0);
  EXPECT_OK(store->transact([](Tx& tx) {
    auto all = tx.images();
    EXPECT_TRUE(all.isOk());
    EXPECT_TRUE(all->empty());
    return Status::ok();
  }));
}

TEST_F(SqliteStoreTest, AChangeSetListsExactlyTheRowsATransactionWrote) {
  auto store = open();
  std::vector<ChangeSet> seen;
  store->onChange([&](const ChangeSet& c) { seen.push_back(c); });
  int plain = 0;
  store->onChange([&] { ++plain; }); // the old form still works
  model::TargetGroup tg;
  tg.targetGroupArn = "arn:tg/web";
  tg.targetGroupName = "web";
  model::Target t;
  t.targetGroupArn = tg.targetGroupArn;
  t.id = "i-0000000000000000a";
  t.port = 8080;
  model::Instance i;
  i.instanceId = "i-0000000000000000a";
  i.autoScalingGroupName = "shop";
  model::ScalingActivity a;
  a.activityId = "act-1";
  a.autoScalingGroupName = "shop";
  model::AutoScalingGroup g;
  g.autoScalingGroupName = "shop";
  ASSERT_OK(store->transact([&](Tx& tx) {
    TIDE_RETURN_IF_ERROR(tx.targets("").status()); // reads are not changes
    TIDE_RETURN_IF_ERROR(tx.putTargetGroup(tg));
    TIDE_RETURN_IF_ERROR(tx.putTarget(t));
    TIDE_RETURN_IF_ERROR(tx.putInstance(i));
    TIDE_RETURN_IF_ERROR(tx.putInstance(i)); // twice: listed once
    TIDE_RETURN_IF_ERROR(tx.putAutoScalingGroup(g));
    return tx.putScalingActivity(a);
  }));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].changes(),
            (std::vector<Change>{{Kind::TargetGroup, "arn:tg/web", ""},
                                 {Kind::Target, "i-0000000000000000a:8080", "arn:tg/web"},
                                 {Kind::Instance, "i-0000000000000000a", "shop"},
                                 {Kind::AutoScalingGroup, "shop", ""},
                                 {Kind::ScalingActivity, "act-1", "shop"}}));
  EXPECT_TRUE(seen[0].touches(Kind::Target));
  EXPECT_FALSE(seen[0].touches(Kind::Stack));

  // A delete lists the rows it takes along; a failed transaction and a quiet one list nothing.
  ASSERT_OK(store->transact([&](Tx& tx) {
    TIDE_RETURN_IF_ERROR(tx.deleteTargetGroup(tg.targetGroupArn));
    TIDE_RETURN_IF_ERROR(tx.deleteInstance(i.instanceId));
    return tx.deleteAutoScalingGroup("shop");
  }));
  EXPECT_FALSE(store
                   ->transact([&](Tx& tx) -> Status {
                     TIDE_RETURN_IF_ERROR(tx.putInstance(i));
                     return internalError("rolled back");
                   })
                   .isOk());
  ASSERT_OK(store->transact([&](Tx& tx) { return tx.putInstance(i); }, false));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].changes(),
            (std::vector<Change>{{Kind::Target, "i-0000000000000000a:8080", "arn:tg/web"},
                                 {Kind::TargetGroup, "arn:tg/web", ""},
                                 {Kind::Instance, "i-0000000000000000a", "shop"},
                                 {Kind::ScalingActivity, "act-1", "shop"},
                                 {Kind::AutoScalingGroup, "shop", ""}}));
  EXPECT_EQ(plain, 2);
  EXPECT_EQ(kindName(Kind::TargetGroup), "TargetGroup");
}

TEST_F(SqliteStoreTest, UniqueNamesAndImmutableVersions) {
  auto store = open();
  ASSERT_TRUE(
      store->transact([](Tx& tx) { return tx.putImage(image("ami-00000000000000001", "a")); })
          .isOk());
  EXPECT_FALSE(
      store->transact([](Tx& tx) { return tx.putImage(image("ami-00000000000000002", "a")); })
          .isOk());
  model::LaunchTemplate lt;
  lt.launchTemplateId = "lt-00000000000000001";
  lt.launchTemplateName = "web";
  model::LaunchTemplateVersion v;
  v.launchTemplateId = lt.launchTemplateId;
  ASSERT_TRUE(store
                  ->transact([&](Tx& tx) {
                    TIDE_RETURN_IF_ERROR(tx.putLaunchTemplate(lt));
                    return tx.insertLaunchTemplateVersion(v);
                  })
                  .isOk());
  EXPECT_FALSE(store->transact([&](Tx& tx) { return tx.insertLaunchTemplateVersion(v); }).isOk());
  // Updating the template keeps its versions.
  lt.latestVersionNumber = 1;
  ASSERT_TRUE(store->transact([&](Tx& tx) { return tx.putLaunchTemplate(lt); }).isOk());
  EXPECT_OK(store->transact([&](Tx& tx) {
    EXPECT_EQ(tx.launchTemplateVersions(lt.launchTemplateId)->size(), 1u);
    TIDE_RETURN_IF_ERROR(tx.deleteLaunchTemplate(lt.launchTemplateId));
    EXPECT_EQ(tx.launchTemplateVersions(lt.launchTemplateId)->size(), 0u);
    return Status::ok();
  }));
}

TEST_F(SqliteStoreTest, InstancesKeepLaunchOrderAndNotifyUnlessAsked) {
  auto store = open();
  int notified = 0;
  store->onChange([&] { ++notified; });
  for (const char* id : {"i-0000000000000000b", "i-0000000000000000a"}) {
    model::Instance i;
    i.instanceId = id;
    ASSERT_TRUE(store->transact([&](Tx& tx) { return tx.putInstance(i); }).isOk());
  }
  EXPECT_EQ(notified, 2);
  model::Instance b;
  b.instanceId = "i-0000000000000000b";
  b.lastExit = "exited with status 3";
  ASSERT_TRUE(store->transact([&](Tx& tx) { return tx.putInstance(b); }, false).isOk());
  EXPECT_EQ(notified, 2);
  EXPECT_OK(store->transact([](Tx& tx) {
    auto all = tx.instances();
    EXPECT_EQ(all->size(), 2u);
    EXPECT_EQ((*all)[0].instanceId, "i-0000000000000000b");
    EXPECT_EQ((*all)[0].lastExit, "exited with status 3");
    return Status::ok();
  }));
}

TEST_F(SqliteStoreTest, CountsTransactionsThatWroteNotThoseThatOnlyRead) {
  auto store = open();
  EXPECT_EQ(store->writeCommits(), 0u);
  model::Instance i;
  i.instanceId = "i-0000000000000000a";
  ASSERT_TRUE(store->transact([&](Tx& tx) { return tx.putInstance(i); }).isOk());
  ASSERT_TRUE(store->transact([&](Tx& tx) { return tx.putInstance(i); }, false).isOk());
  EXPECT_EQ(store->writeCommits(), 2u);
  ASSERT_TRUE(store->transact([](Tx& tx) { return tx.instances().status(); }, false).isOk());
  EXPECT_FALSE(store
                   ->transact([&](Tx& tx) -> Status {
                     TIDE_RETURN_IF_ERROR(tx.putInstance(i));
                     return internalError("rolled back");
                   })
                   .isOk());
  EXPECT_EQ(store->writeCommits(), 2u);
}

TEST_F(SqliteStoreTest, HealthCheckCountersAreNotStored) {
  auto store = open();
  model::TargetGroup tg;
  tg.targetGroupArn = "arn:tg/web";
  tg.targetGroupName = "web";
  model::Target t{tg.targetGroupArn, "i-0000000000000000a", 8080,
                  model::TargetHealthState::Healthy};
  t.consecutive = 7; // the health checker's count, in memory only
  ASSERT_TRUE(store
                  ->transact([&](Tx& tx) {
                    TIDE_RETURN_IF_ERROR(tx.putTargetGroup(tg));
                    return tx.putTarget(t);
                  })
                  .isOk());
  EXPECT_OK(store->transact([](Tx& tx) {
    auto all = tx.targets("");
    EXPECT_EQ(all->size(), 1u);
    EXPECT_EQ((*all)[0].state, model::TargetHealthState::Healthy);
    EXPECT_EQ((*all)[0].consecutive, 0);
    return Status::ok();
  }));
}

TEST_F(SqliteStoreTest, LoadBalancersListenersTargetGroupsAndTargets) {
  auto store = open();
  model::LoadBalancer lb;
  lb.loadBalancerArn = "arn:lb/1";
  lb.loadBalancerName = "shop";
  model::Listener l;
  l.listenerArn = "arn:listener/1";
  l.loadBalancerArn = lb.loadBalancerArn;
  l.port = 8000;
  l.defaultActions = {{"forward", "arn:tg/1"}};
  model::TargetGroup tg;
  tg.targetGroupArn = "arn:tg/1";
  tg.targetGroupName = "web";
  tg.healthCheckIntervalSeconds = 0.5;
  model::Target a{tg.targetGroupArn, "i-a", 8080};
  model::Target b{tg.targetGroupArn, "i-a", 9090}; // the same instance on another port
  ASSERT_TRUE(store
                  ->transact([&](Tx& tx) {
                    TIDE_RETURN_IF_ERROR(tx.putLoadBalancer(lb));
                    TIDE_RETURN_IF_ERROR(tx.putListener(l));
                    TIDE_RETURN_IF_ERROR(tx.putTargetGroup(tg));
                    TIDE_RETURN_IF_ERROR(tx.putTarget(a));
                    return tx.putTarget(b);
                  })
                  .isOk());
  a.state = model::TargetHealthState::Healthy;
  ASSERT_TRUE(store->transact([&](Tx& tx) { return tx.putTarget(a); }).isOk());
  EXPECT_OK(store->transact([&](Tx& tx) {
    auto targets = tx.targets(tg.targetGroupArn);
    EXPECT_EQ(targets->size(), 2u);
    EXPECT_EQ((*targets)[0].state, model::TargetHealthState::Healthy);
    EXPECT_EQ((*tx.targetGroupByName("web"))->healthCheckIntervalSeconds, 0.5);
    EXPECT_EQ((*tx.listener(l.listenerArn))->defaultActions[0].targetGroupArn, "arn:tg/1");
    // Deleting a load balancer deletes its listeners; a target group its targets.
    TIDE_RETURN_IF_ERROR(tx.deleteLoadBalancer(lb.loadBalancerArn));
    EXPECT_TRUE(tx.listeners()->empty());
    TIDE_RETURN_IF_ERROR(tx.deleteTargetGroup(tg.targetGroupArn));
    EXPECT_TRUE(tx.targets("")->empty());
    return Status::ok();
  }));
}

TEST_F(SqliteStoreTest, AutoScalingAlarmsAndStacks) {
  auto store = open();
  model::AutoScalingGroup g;
  g.autoScalingGroupName = "web";
  g.minSize = 2;
  g.maxSize = 10;
  g.desiredCapacity = 2;
  model::ScalingPolicy up;
  up.policyArn = "arn:policy/up";
  up.policyName = "up";
  up.autoScalingGroupName = "web";
  up.policyType = "StepScaling";
  up.stepAdjustments = {{0.0, std::nullopt, 1}};
  up.cooldown = 60;
  model::MetricAlarm alarm;
  alarm.alarmName = "cpu-high";
  alarm.dimensions = {{"AutoScalingGroupName", "web"}};
  alarm.alarmActions = {up.policyArn};
  model::Stack stack;
  stack.stackName = "shop";
  stack.resources = {{"Web", "AWS::AutoScaling::AutoScalingGroup", "web", "CREATE_COMPLETE", ""}};
  ASSERT_TRUE(store
                  ->transact([&](Tx& tx) {
                    TIDE_RETURN_IF_ERROR(tx.putAutoScalingGroup(g));
                    TIDE_RETURN_IF_ERROR(tx.putScalingPolicy(up));
                    for (int k = 0; k < 3; ++k) {
                      model::ScalingActivity a;
                      a.activityId = "a" + std::to_string(k);
                      a.autoScalingGroupName = "web";
                      a.startTime = 1000 + k;
                      TIDE_RETURN_IF_ERROR(tx.putScalingActivity(a));
                    }
                    TIDE_RETURN_IF_ERROR(tx.putAlarm(alarm));
                    return tx.putStack(stack);
                  })
                  .isOk());
  EXPECT_OK(store->transact([&](Tx& tx) {
    EXPECT_EQ((*tx.autoScalingGroup("web"))->maxSize, 10);
    auto policies = tx.scalingPolicies("web");
    EXPECT_EQ(policies->size(), 1u);
    EXPECT_EQ((*policies)[0].stepAdjustments, up.stepAdjustments);
    EXPECT_EQ((*policies)[0].cooldown, 60);
    auto newest = tx.scalingActivities("web", 2);
    EXPECT_EQ(newest->size(), 2u);
    EXPECT_EQ((*newest)[0].activityId, "a2");
    EXPECT_EQ((*tx.alarm("cpu-high"))->dimensions[0].value, "web");
    EXPECT_EQ((*tx.stack("shop"))->resources, stack.resources);
    TIDE_RETURN_IF_ERROR(tx.deleteAutoScalingGroup("web"));
    EXPECT_TRUE(tx.scalingPolicies("web")->empty());
    EXPECT_TRUE(tx.scalingActivities("web", 10)->empty());
    return Status::ok();
  }));
}

TEST_F(SqliteStoreTest, AlarmHistoryIsKeptNewestFirstAndBoundedPerAlarm) {
  auto store = open();
  auto item = [](const std::string& alarm, int i) {
    model::AlarmHistoryItem h;
    h.alarmName = alarm;
    h.timestamp = 1000 + i;
    h.historyItemType = "StateUpdate";
    h.historySummary = "item " + std::to_string(i);
    h.historyData = "{}";
    return h;
  };
  EXPECT_OK(store->transact([&](Tx& tx) {
    for (int i = 0; i < Tx::kMaxAlarmHistory + 5; ++i) {
      TIDE_RETURN_IF_ERROR(tx.putAlarmHistoryItem(item("busy", i)));
    }
    return tx.putAlarmHistoryItem(item("quiet", 0));
  }));
  store = open();
  EXPECT_OK(store->transact([&](Tx& tx) {
    auto busy = tx.alarmHistory("busy");
    EXPECT_EQ(busy->size(), static_cast<size_t>(Tx::kMaxAlarmHistory));
    EXPECT_EQ(busy->front(), item("busy", Tx::kMaxAlarmHistory + 4)); // newest first
    EXPECT_EQ(busy->back(), item("busy", 5));
    EXPECT_EQ(tx.alarmHistory("quiet")->size(), 1u);
    auto all = tx.alarmHistory("");
    EXPECT_EQ(all->size(), static_cast<size_t>(Tx::kMaxAlarmHistory) + 1);
    EXPECT_EQ(all->front().alarmName, "quiet");
    return Status::ok();
  }));
}

TEST_F(SqliteStoreTest, StackEventsAndDeletedStacksAreKeptNewestFirstAndBounded) {
  auto store = open();
  auto event = [](const std::string& stackId, const std::string& status) {
    model::StackEvent e;
    e.eventId = stackId + "-" + status;
    e.stackId = stackId;
    e.resourceStatus = status;
    return e;
  };
  auto deleted = [](int i) {
    model::Stack s;
    s.stackName = "shop";
    s.stackId = "id" + std::to_string(i);
    s.stackStatus = "DELETE_COMPLETE";
    s.deletionTime = 1000 + i;
    return s;
  };
  EXPECT_OK(store->transact([&](Tx& tx) {
    for (int i = 0; i < Tx::kMaxDeletedStacks + 2; ++i) {
      TIDE_RETURN_IF_ERROR(tx.putStackEvent(event(deleted(i).stackId, "DELETE_COMPLETE")));
      TIDE_RETURN_IF_ERROR(tx.putDeletedStack(deleted(i)));
    }
    TIDE_RETURN_IF_ERROR(tx.putStackEvent(event("live", "CREATE_IN_PROGRESS")));
    return tx.putStackEvent(event("live", "CREATE_COMPLETE"));
  }));
  store = open(); // what is kept survives a reopen
  EXPECT_OK(store->transact([&](Tx& tx) {
    auto live = tx.stackEvents("live");
    EXPECT_EQ(live->size(), 2u);
    EXPECT_EQ((*live)[0].resourceStatus, "CREATE_COMPLETE"); // newest first
    auto gone = tx.deletedStacks();
    EXPECT_EQ(gone->size(), static_cast<size_t>(Tx::kMaxDeletedStacks));
    EXPECT_EQ(gone->front(), deleted(Tx::kMaxDeletedStacks + 1));
    EXPECT_EQ(gone->back().stackId, "id2");
    // The events of the stacks dropped went with them; the others stay.
    EXPECT_TRUE(tx.stackEvents("id0")->empty());
    EXPECT_TRUE(tx.stackEvents("id1")->empty());
    EXPECT_EQ(tx.stackEvents("id2")->size(), 1u);
    EXPECT_FALSE(tx.stack("shop")->has_value());
    return Status::ok();
  }));
}

TEST_F(SqliteStoreTest, KeepsTheEnumsAndWhatActivitiesAreAbout) {
  auto store = open();
  model::Instance i;
  i.instanceId = "i-00000000000000001";
  i.autoScalingGroupName = "web";
  i.lifecycleState = model::LifecycleState::Terminating;
  i.healthStatus = model::HealthStatus::Unhealthy;
  model::Instance alone;
  alone.instanceId = "i-00000000000000002";
  model::AutoScalingGroup g;
  g.autoScalingGroupName = "web";
  g.healthCheckType = model::HealthCheckType::ELB;
  model::ScalingActivity a;
  a.activityId = "a1";
  a.autoScalingGroupName = "web";
  a.kind = model::ActivityKind::Terminate;
  a.instanceId = i.instanceId;
  a.description = "anything at all";
  a.statusCode = model::ActivityStatusCode::Cancelled;
  model::MetricAlarm alarm;
  alarm.alarmName = "cpu-high";
  alarm.stateValue = model::AlarmStateValue::Alarm;
  ASSERT_OK(store->transact([&](Tx& tx) {
    TIDE_RETURN_IF_ERROR(tx.putInstance(i));
    TIDE_RETURN_IF_ERROR(tx.putInstance(alone));
    TIDE_RETURN_IF_ERROR(tx.putAutoScalingGroup(g));
    TIDE_RETURN_IF_ERROR(tx.putScalingActivity(a));
    return tx.putAlarm(alarm);
  }));
  EXPECT_OK(store->transact([&](Tx& tx) {
    auto back = **tx.instance(i.instanceId);
    EXPECT_EQ(back.lifecycleState, model::LifecycleState::Terminating);
    EXPECT_EQ(back.healthStatus, model::HealthStatus::Unhealthy);
    auto notInGroup = **tx.instance(alone.instanceId);
    EXPECT_FALSE(notInGroup.lifecycleState.has_value());
    EXPECT_FALSE(notInGroup.healthStatus.has_value());
    EXPECT_EQ((*tx.autoScalingGroup("web"))->healthCheckType, model::HealthCheckType::ELB);
    auto acts = *tx.scalingActivities("web", 10);
    EXPECT_EQ(acts.size(), 1u);
    EXPECT_EQ(acts[0].kind, model::ActivityKind::Terminate);
    EXPECT_EQ(acts[0].instanceId, i.instanceId);
    EXPECT_EQ(acts[0].statusCode, model::ActivityStatusCode::Cancelled);
    EXPECT_EQ((*tx.alarm("cpu-high"))->stateValue, model::AlarmStateValue::Alarm);
    return Status::ok();
  }));
  // The documents keep the strings they kept before these were enums.
  std::string doc = encodeInstance(i);
  EXPECT_NE(doc.find(R"("lifecycleState":"Terminating")"), std::string::npos) << doc;
  EXPECT_NE(doc.find(R"("healthStatus":"Unhealthy")"), std::string::npos) << doc;
  EXPECT_NE(encodeInstance(alone).find(R"("lifecycleState":"")"), std::string::npos);
  EXPECT_NE(encodeAutoScalingGroup(g).find(R"("healthCheckType":"ELB")"), std::string::npos);
  EXPECT_NE(encodeScalingActivity(a).find(R"("statusCode":"Cancelled")"), std::string::npos);
  EXPECT_NE(encodeAlarm(alarm).find(R"("stateValue":"ALARM")"), std::string::npos);
  // A name this tide does not know makes the document unreadable, not another value.
  EXPECT_FALSE(decodeAlarm(R"({"alarmName":"x","stateValue":"MAYBE"})").isOk());
}

TEST_F(SqliteStoreTest, ClassifiesActivitiesWrittenBeforeTheyHadAKind) {
  open(); // the current schema; then back to version 3 (without what later versions made),
          // with rows as tide wrote them then
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    const char* sql = R"sql(
INSERT INTO scaling_activities (id, group_name, start_time, doc) VALUES
 ('launched', 'web', 1, '{"activityId":"launched","autoScalingGroupName":"web","description":"Launching a new EC2 instance: i-0123456789abcdef0","statusCode":"Successful"}'),
 ('failed', 'web', 2, '{"activityId":"failed","autoScalingGroupName":"web","description":"Launching a new EC2 instance.  Status Reason: no capacity: i-0123456789abcdef0","statusCode":"Failed"}'),
 ('terminated', 'web', 3, '{"activityId":"terminated","autoScalingGroupName":"web","description":"Terminating EC2 instance: i-0fedcba9876543210","statusCode":"InProgress"}'),
 ('desired', 'web', 4, '{"activityId":"desired","autoScalingGroupName":"web","description":"Changing the desired capacity from 1 to 2","statusCode":"Successful"}');
DROP TABLE stack_events;
DROP TABLE deleted_stacks;
PRAGMA user_version = 3;
)sql";
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_close(db);
  }
  auto store = open();
  std::map<std::string, model::ScalingActivity> byId;
  EXPECT_OK(store->transact([&](Tx& tx) {
    TIDE_ASSIGN_OR_RETURN(auto acts, tx.scalingActivities("web", 10));
    for (auto& a : acts) {
      byId[a.activityId] = a;
    }
    return Status::ok();
  }));
  ASSERT_EQ(byId.size(), 4u);
  EXPECT_EQ(byId["launched"].kind, model::ActivityKind::Launch);
  EXPECT_EQ(byId["launched"].instanceId, "i-0123456789abcdef0");
  EXPECT_EQ(byId["failed"].kind, model::ActivityKind::Launch);
  EXPECT_EQ(byId["failed"].instanceId, ""); // a failed launch made no instance
  EXPECT_EQ(byId["failed"].statusCode, model::ActivityStatusCode::Failed);
  EXPECT_EQ(byId["terminated"].kind, model::ActivityKind::Terminate);
  EXPECT_EQ(byId["terminated"].instanceId, "i-0fedcba9876543210");
  EXPECT_EQ(byId["desired"].kind, model::ActivityKind::Other);
  EXPECT_EQ(byId["desired"].instanceId, "");
  // The descriptions stay as they were, for people.
  EXPECT_EQ(byId["terminated"].description, "Terminating EC2 instance: i-0fedcba9876543210");
}

TEST_F(SqliteStoreTest, ANewStoreHasTheDefaultNetwork) {
  auto store = open();
  EXPECT_OK(store->transact([&](Tx& tx) {
    TIDE_ASSIGN_OR_RETURN(auto vpcs, tx.vpcs());
    EXPECT_EQ(vpcs.size(), 1u);
    if (vpcs.empty()) {
      return Status::ok();
    }
    EXPECT_TRUE(vpcs[0].isDefault);
    EXPECT_EQ(vpcs[0].cidrBlock, "172.31.0.0/16");
    TIDE_ASSIGN_OR_RETURN(auto subnets, tx.subnets(vpcs[0].vpcId));
    EXPECT_EQ(subnets.size(), 3u);
    TIDE_ASSIGN_OR_RETURN(auto groups, tx.securityGroups(vpcs[0].vpcId));
    EXPECT_EQ(groups.size(), 1u);
    EXPECT_TRUE(!groups.empty() && groups[0].isDefault());
    return Status::ok();
  }));
  // Opening again keeps the same network: it is made once, by the migration.
  std::string first;
  EXPECT_OK(store->transact([&](Tx& tx) {
    first = (*tx.vpcs())[0].vpcId;
    return Status::ok();
  }));
  store.reset();
  store = open();
  EXPECT_OK(store->transact([&](Tx& tx) {
    TIDE_ASSIGN_OR_RETURN(auto vpcs, tx.vpcs());
    EXPECT_EQ(vpcs.size(), 1u);
    EXPECT_EQ(vpcs[0].vpcId, first);
    return Status::ok();
  }));
}

TEST_F(SqliteStoreTest, AnOldDatabaseGainsTheDefaultNetworkAndKeepsItsRows) {
  open(); // the current schema; then back to version 4, as a tide before networking left it
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    const char* sql = R"sql(
DROP TABLE vpcs; DROP TABLE subnets; DROP TABLE security_groups; DROP TABLE key_pairs;
INSERT INTO images (id, name, created, doc) VALUES
 ('ami-0123456789abcdef0', 'shop', 1, '{"imageId":"ami-0123456789abcdef0","name":"shop"}');
PRAGMA user_version = 4;
)sql";
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_close(db);
  }
  auto store = open();
  EXPECT_OK(store->transact([&](Tx& tx) {
    EXPECT_TRUE((*tx.image("ami-0123456789abcdef0")).has_value());
    TIDE_ASSIGN_OR_RETURN(auto vpcs, tx.vpcs());
    EXPECT_EQ(vpcs.size(), 1u);
    TIDE_ASSIGN_OR_RETURN(auto subnets, tx.subnets(""));
    EXPECT_EQ(subnets.size(), 3u);
    for (size_t i = 0; i < subnets.size(); ++i) {
      EXPECT_TRUE(subnets[i].defaultForAz);
      EXPECT_EQ(subnets[i].zoneLetter, std::string(1, "abc"[i]));
    }
    TIDE_ASSIGN_OR_RETURN(auto keys, tx.keyPairs());
    EXPECT_TRUE(keys.empty());
    return Status::ok();
  }));
}

TEST_F(SqliteStoreTest, SecurityGroupNamesAreUniquePerVpc) {
  auto store = open();
  model::SecurityGroup a = model::defaultSecurityGroup("vpc-0123456789abcdef0", 1);
  model::SecurityGroup b = model::defaultSecurityGroup("vpc-0123456789abcdef0", 1);
  model::SecurityGroup c = model::defaultSecurityGroup("vpc-0fedcba9876543210", 1);
  EXPECT_OK(store->transact([&](Tx& tx) { return tx.putSecurityGroup(a); }));
  EXPECT_FALSE(store->transact([&](Tx& tx) { return tx.putSecurityGroup(b); }).isOk());
  EXPECT_OK(store->transact([&](Tx& tx) { return tx.putSecurityGroup(c); }));
}

TEST_F(SqliteStoreTest, RefusesFilesThatAreNotTideDatabases) {
  {
    std::ofstream f(path_);
    f << "this is not a database, just text that is long enough to look like a header.....";
  }
  auto s = openSqliteStore(path_);
  EXPECT_FALSE(s.isOk());
  EXPECT_NE(s.status().message().find(path_), std::string::npos);
}

TEST(CodecTest, TargetGroupsStoredBeforeTheNewAttributesLoadWithAwsDefaults) {
  // A target group document as stores before slow start and stickiness held it.
  auto tg = decodeTargetGroup(R"({"targetGroupArn":"arn:tg/web","targetGroupName":"web",)"
                              R"("port":8080,"deregistrationDelaySeconds":5,)"
                              R"("algorithm":"least_outstanding_requests"})");
  ASSERT_TRUE(tg) << tg.status().toString();
  EXPECT_EQ(tg->deregistrationDelaySeconds, 5);
  EXPECT_EQ(tg->algorithm, "least_outstanding_requests");
  EXPECT_EQ(tg->slowStartSeconds, 0);
  EXPECT_FALSE(tg->stickinessEnabled);
  EXPECT_EQ(tg->stickinessType, "lb_cookie");
  EXPECT_EQ(tg->lbCookieDurationSeconds, 86400);
  EXPECT_EQ(tg->appCookieName, "");
  EXPECT_EQ(tg->appCookieDurationSeconds, 86400);
  EXPECT_EQ(tg->anomalyMitigation, "off");
  // And the new ones round-trip.
  tg->slowStartSeconds = 45;
  tg->stickinessEnabled = true;
  tg->stickinessType = "app_cookie";
  tg->appCookieName = "SESSION";
  auto back = decodeTargetGroup(encodeTargetGroup(*tg));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->slowStartSeconds, 45);
  EXPECT_TRUE(back->stickinessEnabled);
  EXPECT_EQ(back->stickinessType, "app_cookie");
  EXPECT_EQ(back->appCookieName, "SESSION");
}

} // namespace
} // namespace tide::store
