// The scheduled action controller on a virtual clock: one-time actions run at their time and
// are deleted; recurring ones follow their cron in a time zone across DST; suspended
// ScheduledActions skip runs; a restart neither runs an action twice nor loses a due one.
#include "common/status_testing.h"
#include "control/group_test_fixture.h"
#include "control/scheduled_action_controller.h"
#include "operations/scheduled_action.h"
#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <unistd.h>

namespace tide::control {
namespace {

namespace fs = std::filesystem;
using model::ScheduledUpdateGroupAction;

TimeMs at(const char* iso) {
  return *parseTimestamp(iso);
}

class ScheduledActionControllerTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tide-scheduled-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    clock_.set(at("2026-12-06T17:00:00Z"));
    open();
    model::AutoScalingGroup g;
    g.autoScalingGroupName = "web";
    g.minSize = 1;
    g.maxSize = 5;
    g.desiredCapacity = 2;
    ASSERT_OK(store_->transact([&](store::Tx& tx) { return tx.putAutoScalingGroup(g); }));
  }
  void TearDown() override { fs::remove_all(dir_); }

  // (Re)opens the store and a new controller over it, as a server start does.
  void open() {
    controller_.reset();
    store_.reset();
    store_ = std::move(*store::openSqliteStore((dir_ / "state.db").string()));
    controller_ = std::make_unique<ScheduledActionController>(*store_, clock_);
  }

  void put(ScheduledUpdateGroupAction a) {
    ASSERT_OK(operations::prepareScheduledAction(a, clock_.now()));
    ASSERT_OK(store_->transact([&](store::Tx& tx) -> Status {
      TIDE_ASSIGN_OR_RETURN(auto g, tx.autoScalingGroup("web"));
      g->scheduledActions.push_back(a);
      return tx.putAutoScalingGroup(*g);
    }));
  }
  model::AutoScalingGroup group() { return testing::readGroup(*store_, "web"); }
  std::vector<model::ScalingActivity> activities() {
    return testing::readActivities(*store_, "web");
  }
  // Runs passes as the scheduler would, following the times they return, until `until`;
  // returns the times at which the desired capacity changed.
  std::vector<std::string> runUntil(TimeMs until) {
    std::vector<std::string> changes;
    while (clock_.now() <= until) {
      int before = group().desiredCapacity;
      auto wait = controller_->reconcile();
      EXPECT_OK(wait.status());
      if (!wait) {
        break;
      }
      if (group().desiredCapacity != before) {
        changes.push_back(formatIso8601(clock_.now()));
      }
      clock_.advance(std::min(*wait, Millis(3'600'000)));
    }
    return changes;
  }

  fs::path dir_;
  VirtualClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ScheduledActionController> controller_;
};

TEST_F(ScheduledActionControllerTest, OneTimeActionRunsAtItsTimeAndIsDeleted) {
  ScheduledUpdateGroupAction a;
  a.scheduledActionName = "evening";
  a.startTime = at("2026-12-06T18:00:00Z");
  a.minSize = 2;
  a.maxSize = 10;
  a.desiredCapacity = 4;
  put(a);
  auto wait = controller_->reconcile();
  ASSERT_OK(wait.status());
  EXPECT_EQ(*wait, Millis(3'600'000)); // the next run, an hour away
  EXPECT_EQ(group().desiredCapacity, 2);
  clock_.set(at("2026-12-06T17:59:59.999Z"));
  ASSERT_OK(controller_->reconcile().status());
  EXPECT_EQ(group().desiredCapacity, 2);
  clock_.set(at("2026-12-06T18:00:00.050Z"));
  ASSERT_OK(controller_->reconcile().status());
  auto g = group();
  EXPECT_EQ(g.minSize, 2);
  EXPECT_EQ(g.maxSize, 10);
  EXPECT_EQ(g.desiredCapacity, 4);
  EXPECT_TRUE(g.scheduledActions.empty()); // one-time: deleted after it ran
  auto acts = activities();
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_EQ(acts[0].cause, "At 2026-12-06T18:00:00Z a scheduled action update of "
                           "AutoScalingGroup constraints to min: 2, max: 10, desired: 4 changing "
                           "the desired capacity from 2 to 4.");
  auto details = nlohmann::json::parse(acts[0].details);
  EXPECT_EQ(details["ScheduledActionName"], "evening");
  EXPECT_EQ(details["PreviousDesiredCapacity"], 2);
  EXPECT_EQ(details["DesiredCapacity"], 4);
  EXPECT_EQ(details["MaxSize"], 10);
}

TEST_F(ScheduledActionControllerTest, DesiredIsClampedAndMinAboveMaxFails) {
  ScheduledUpdateGroupAction raise;
  raise.scheduledActionName = "raise-min";
  raise.startTime = at("2026-12-06T18:00:00Z");
  raise.minSize = 3; // desired 2 is raised to the new min
  put(raise);
  ScheduledUpdateGroupAction tooHigh;
  tooHigh.scheduledActionName = "too-high";
  tooHigh.startTime = at("2026-12-06T19:00:00Z");
  tooHigh.minSize = 8; // above the group's max of 5
  put(tooHigh);
  clock_.set(at("2026-12-06T18:00:00Z"));
  ASSERT_OK(controller_->reconcile().status());
  EXPECT_EQ(group().minSize, 3);
  EXPECT_EQ(group().desiredCapacity, 3);
  clock_.set(at("2026-12-06T19:00:00Z"));
  ASSERT_OK(controller_->reconcile().status());
  auto g = group();
  EXPECT_EQ(g.minSize, 3);
  EXPECT_EQ(g.maxSize, 5);
  EXPECT_TRUE(g.scheduledActions.empty());
  auto acts = activities();
  ASSERT_EQ(acts.size(), 2u);
  EXPECT_EQ(acts[0].statusCode, model::ActivityStatusCode::Failed);
  EXPECT_NE(acts[0].statusMessage.find("min size 8 is greater than the max size 5"),
            std::string::npos);
}

TEST_F(ScheduledActionControllerTest, RecurringInNewYorkAcrossTheMarchChange) {
  ScheduledUpdateGroupAction up, down;
  up.scheduledActionName = "morning";
  up.recurrence = "0 9 * * *";
  up.timeZone = "America/New_York";
  up.desiredCapacity = 4;
  down = up;
  down.scheduledActionName = "night";
  down.recurrence = "0 21 * * *";
  down.desiredCapacity = 1;
  clock_.set(at("2027-03-12T12:00:00Z"));
  put(up);
  put(down);
  auto changes = runUntil(at("2027-03-15T12:00:00Z"));
  EXPECT_EQ(changes, (std::vector<std::string>{
                         "2027-03-12T14:00:00.000Z", // 09:00 EST
                         "2027-03-13T02:00:00.000Z", // 21:00 EST
                         "2027-03-13T14:00:00.000Z",
                         "2027-03-14T02:00:00.000Z",    // 21:00 EST, the night before the change
                         "2027-03-14T13:00:00.000Z",    // 09:00 EDT
                         "2027-03-15T01:00:00.000Z"})); // 21:00 EDT
  EXPECT_EQ(group().scheduledActions.size(), 2u);       // recurring: kept
}

TEST_F(ScheduledActionControllerTest, SuspendedScheduledActionsSkipRuns) {
  ScheduledUpdateGroupAction a;
  a.scheduledActionName = "hourly";
  a.recurrence = "0 * * * *";
  a.desiredCapacity = 4;
  put(a);
  ASSERT_OK(store_->transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, tx.autoScalingGroup("web"));
    g->suspendedProcesses.push_back({"ScheduledActions", "User suspended"});
    return tx.putAutoScalingGroup(*g);
  }));
  EXPECT_TRUE(runUntil(at("2026-12-06T19:30:00Z")).empty());
  EXPECT_EQ(group().desiredCapacity, 2);
  EXPECT_EQ(formatIso8601(group().scheduledActions.at(0).nextRun), "2026-12-06T20:00:00.000Z");
  ASSERT_OK(store_->transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, tx.autoScalingGroup("web"));
    g->suspendedProcesses.clear();
    return tx.putAutoScalingGroup(*g);
  }));
  // The skipped runs are not made up; the next one runs.
  EXPECT_EQ(runUntil(at("2026-12-06T20:30:00Z")),
            (std::vector<std::string>{"2026-12-06T20:00:00.000Z"}));
  EXPECT_TRUE(activities().size() == 1u);
}

TEST_F(ScheduledActionControllerTest, RestartNeitherRunsTwiceNorSkipsADueRun) {
  ScheduledUpdateGroupAction a;
  a.scheduledActionName = "daily";
  a.recurrence = "0 18 * * *";
  a.desiredCapacity = 4;
  put(a);
  clock_.set(at("2026-12-06T18:00:00Z"));
  ASSERT_OK(controller_->reconcile().status());
  EXPECT_EQ(group().desiredCapacity, 4);
  // Someone sets the capacity back; a restart must not run the 18:00 action again.
  ASSERT_OK(store_->transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, tx.autoScalingGroup("web"));
    g->desiredCapacity = 2;
    return tx.putAutoScalingGroup(*g);
  }));
  open();
  clock_.advance(Millis(5000));
  ASSERT_OK(controller_->reconcile().status());
  EXPECT_EQ(group().desiredCapacity, 2);
  EXPECT_EQ(activities().size(), 1u);
  // Down from before the next run until two days later: the due run happens once on start,
  // the one missed before it is skipped, and the next is tomorrow's.
  clock_.set(at("2026-12-09T10:00:00Z"));
  open();
  ASSERT_OK(controller_->reconcile().status());
  ASSERT_OK(controller_->reconcile().status());
  EXPECT_EQ(group().desiredCapacity, 4);
  EXPECT_EQ(activities().size(), 2u);
  EXPECT_EQ(formatIso8601(group().scheduledActions.at(0).nextRun), "2026-12-09T18:00:00.000Z");
}

TEST_F(ScheduledActionControllerTest, RecurrenceStopsAtItsEndTime) {
  ScheduledUpdateGroupAction a;
  a.scheduledActionName = "twice";
  a.recurrence = "0 18 * * *";
  a.endTime = at("2026-12-07T20:00:00Z");
  a.desiredCapacity = 4;
  put(a);
  runUntil(at("2026-12-07T19:00:00Z"));
  EXPECT_TRUE(group().scheduledActions.empty()); // no run left after the second
  EXPECT_EQ(activities().size(), 1u);            // the second run changed nothing: no activity
}

} // namespace
} // namespace tide::control
