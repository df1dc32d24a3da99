// Target rows: each transition of operations/targets.h over a real SQLite store, checking the
// row it leaves (or that it left none).
#include "operations/targets.h"

#include "common/status_testing.h"
#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <unistd.h>

namespace tide::operations {
namespace {

namespace fs = std::filesystem;
using model::InstanceState;
using model::TargetHealthState;

constexpr const char* kArn = "arn:tg/web";

class TargetsTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tide-targets-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = std::move(*store::openSqliteStore((dir_ / "state.db").string()));
    tg_.targetGroupArn = kArn;
    tg_.targetGroupName = "web";
    tg_.port = 8080;
    tg_.deregistrationDelaySeconds = 30;
    ASSERT_OK(store_->transact([&](store::Tx& tx) { return tx.putTargetGroup(tg_); }));
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  // Runs fn in a transaction that must succeed.
  void write(const std::function<Status(store::Tx&)>& fn) { ASSERT_OK(store_->transact(fn)); }

  std::vector<model::Target> rows() {
    std::vector<model::Target> out;
    EXPECT_OK(store_->transact(
        [&](store::Tx& tx) -> Status {
          TIDE_ASSIGN_OR_RETURN(out, tx.targets(""));
          return Status::ok();
        },
        false));
    return out;
  }

  // The one stored row (fails the test when there is not exactly one).
  model::Target row() {
    auto all = rows();
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? model::Target{} : all[0];
  }

  // A stored target of i-1 on the group's port in `state`.
  model::Target stored(TargetHealthState state, std::string reason = "",
                       std::string description = "") {
    model::Target t;
    t.targetGroupArn = kArn;
    t.id = "i-1";
    t.port = 8080;
    t.state = state;
    t.reason = std::move(reason);
    t.description = std::move(description);
    t.registeredAt = 1000;
    write([&](store::Tx& tx) { return tx.putTarget(t); });
    return t;
  }

  // Registers i-1 on the group's port at `now`; returns whether a row was written.
  bool registerAt(TimeMs now, bool inUse) {
    bool wrote = false;
    write([&](store::Tx& tx) -> Status {
      TIDE_ASSIGN_OR_RETURN(auto targets, tx.targets(kArn));
      TIDE_ASSIGN_OR_RETURN(wrote, registerTarget(tx, targets, tg_, "i-1", 0, inUse, now));
      return Status::ok();
    });
    return wrote;
  }

  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  model::TargetGroup tg_;
};

TEST_F(TargetsTest, RegistrationOfANewTargetStartsInitialWhereAListenerForwards) {
  EXPECT_TRUE(registerAt(5000, true));
  model::Target t = row();
  EXPECT_EQ(t.targetGroupArn, kArn);
  EXPECT_EQ(t.id, "i-1");
  EXPECT_EQ(t.port, 8080); // port 0: the group's
  EXPECT_EQ(t.state, TargetHealthState::Initial);
  EXPECT_EQ(t.reason, "Elb.InitialHealthChecking");
  EXPECT_EQ(t.description, "Initial health checks in progress");
  EXPECT_EQ(t.registeredAt, 5000);
  EXPECT_EQ(t.drainingSince, 0);
}

TEST_F(TargetsTest, RegistrationWhereNoListenerForwardsIsUnused) {
  EXPECT_TRUE(registerAt(5000, false));
  model::Target t = row();
  EXPECT_EQ(t.state, TargetHealthState::Unused);
  EXPECT_EQ(t.reason, "Target.NotInUse");
  EXPECT_EQ(t.description,
            "Target group is not configured to receive traffic from the load balancer");
}

TEST_F(TargetsTest, RegistrationOfARegisteredTargetChangesNothing) {
  model::Target before = stored(TargetHealthState::Healthy);
  EXPECT_FALSE(registerAt(5000, true));
  EXPECT_EQ(row(), before);
}

TEST_F(TargetsTest, ReRegistrationOfADrainingTargetStartsOver) {
  model::Target t = stored(TargetHealthState::Draining, "Target.DeregistrationInProgress",
                           "Target deregistration is in progress");
  t.drainingSince = 2000;
  write([&](store::Tx& tx) { return tx.putTarget(t); });
  EXPECT_TRUE(registerAt(5000, true));
  model::Target again = row();
  EXPECT_EQ(again.state, TargetHealthState::Initial);
  EXPECT_EQ(again.reason, "Elb.InitialHealthChecking");
  EXPECT_EQ(again.registeredAt, 5000);
  EXPECT_EQ(again.drainingSince, 0);
}

TEST_F(TargetsTest, RegistrationKeepsTheCallersRowsTrue) {
  model::Target draining = stored(TargetHealthState::Draining);
  write([&](store::Tx& tx) -> Status {
    std::vector<model::Target> targets = {draining};
    TIDE_ASSIGN_OR_RETURN(bool first, registerTarget(tx, targets, tg_, "i-1", 8080, true, 5000));
    EXPECT_TRUE(first);
    EXPECT_EQ(targets.size(), 1u); // replaced, not appended
    EXPECT_EQ(targets[0].state, TargetHealthState::Initial);
    TIDE_ASSIGN_OR_RETURN(bool second, registerTarget(tx, targets, tg_, "i-2", 9090, true, 5000));
    EXPECT_TRUE(second);
    EXPECT_EQ(targets.size(), 2u);
    EXPECT_EQ(targets[1].port, 9090);
    TIDE_ASSIGN_OR_RETURN(bool third, registerTarget(tx, targets, tg_, "i-2", 9090, true, 6000));
    EXPECT_FALSE(third); // registered now
    return Status::ok();
  });
  EXPECT_EQ(rows().size(), 2u);
}

TEST_F(TargetsTest, DeregistrationStartsDrainingOnce) {
  model::Target t = stored(TargetHealthState::Healthy);
  write([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(bool wrote, deregisterTarget(tx, t, 7000));
    EXPECT_TRUE(wrote);
    return Status::ok();
  });
  model::Target d = row();
  EXPECT_EQ(d, t); // the caller's copy is the row written
  EXPECT_EQ(d.state, TargetHealthState::Draining);
  EXPECT_EQ(d.reason, "Target.DeregistrationInProgress");
  EXPECT_EQ(d.description, "Target deregistration is in progress");
  EXPECT_EQ(d.drainingSince, 7000);
  EXPECT_EQ(d.registeredAt, 1000);
  write([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(bool wrote, deregisterTarget(tx, t, 9000));
    EXPECT_FALSE(wrote); // draining already: the drain keeps its start
    return Status::ok();
  });
  EXPECT_EQ(row().drainingSince, 7000);
}

TEST_F(TargetsTest, DrainingEndsAfterTheDeregistrationDelay) {
  model::Target t = stored(TargetHealthState::Healthy);
  write([&](store::Tx& tx) { return deregisterTarget(tx, t, 7000).status(); });
  EXPECT_EQ(deregistrationEnds(t, tg_), 7000 + 30'000);
  write([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(bool done, finishDeregistration(tx, t, tg_, 7000 + 29'999));
    EXPECT_FALSE(done);
    return Status::ok();
  });
  EXPECT_EQ(row().state, TargetHealthState::Draining);
  write([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(bool done, finishDeregistration(tx, t, tg_, 7000 + 30'000));
    EXPECT_TRUE(done);
    return Status::ok();
  });
  EXPECT_TRUE(rows().empty());
}

TEST_F(TargetsTest, DrainingWithoutDelayEndsAtOnce) {
  tg_.deregistrationDelaySeconds = 0;
  model::Target t = stored(TargetHealthState::Healthy);
  write([&](store::Tx& tx) -> Status {
    TIDE_RETURN_IF_ERROR(deregisterTarget(tx, t, 7000).status());
    EXPECT_EQ(deregistrationEnds(t, tg_), 7000);
    TIDE_ASSIGN_OR_RETURN(bool done, finishDeregistration(tx, t, tg_, 7000));
    EXPECT_TRUE(done);
    return Status::ok();
  });
  EXPECT_TRUE(rows().empty());
}

TEST_F(TargetsTest, FinishingLeavesATargetThatIsNotDraining) {
  model::Target t = stored(TargetHealthState::Healthy);
  write([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(bool done, finishDeregistration(tx, t, tg_, 1'000'000));
    EXPECT_FALSE(done);
    return Status::ok();
  });
  EXPECT_EQ(row(), t);
}

TEST_F(TargetsTest, RemovalDeletesTheRow) {
  model::Target t = stored(TargetHealthState::Healthy);
  write([&](store::Tx& tx) { return removeTarget(tx, t); });
  EXPECT_TRUE(rows().empty());
}

TEST_F(TargetsTest, UnusedWhenNoListenerForwards) {
  model::Target t = stored(TargetHealthState::Healthy);
  write([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(bool wrote, markUnused(tx, t));
    EXPECT_TRUE(wrote);
    TIDE_ASSIGN_OR_RETURN(bool again, markUnused(tx, t));
    EXPECT_FALSE(again);
    return Status::ok();
  });
  model::Target u = row();
  EXPECT_EQ(u.state, TargetHealthState::Unused);
  EXPECT_EQ(u.reason, "Target.NotInUse");
  EXPECT_EQ(u.registeredAt, 1000);
}

TEST_F(TargetsTest, InstanceNotRunningMakesTheTargetUnhealthyWithItsState) {
  model::Target t = stored(TargetHealthState::Healthy);
  write([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(bool wrote, markInstanceNotRunning(tx, t, InstanceState::Stopping));
    EXPECT_TRUE(wrote);
    return Status::ok();
  });
  model::Target u = row();
  EXPECT_EQ(u.state, TargetHealthState::Unhealthy);
  EXPECT_EQ(u.reason, "Target.InvalidState");
  EXPECT_EQ(u.description, "Target is in the stopping state");
  write([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(bool same, markInstanceNotRunning(tx, t, InstanceState::Stopping));
    EXPECT_FALSE(same); // nothing new to say
    TIDE_ASSIGN_OR_RETURN(bool stopped, markInstanceNotRunning(tx, t, InstanceState::Stopped));
    EXPECT_TRUE(stopped);
    return Status::ok();
  });
  EXPECT_EQ(row().description, "Target is in the stopped state");
}

TEST_F(TargetsTest, DrainingTargetsAreLeftToTheirDrain) {
  model::Target t = stored(TargetHealthState::Draining, "Target.DeregistrationInProgress",
                           "Target deregistration is in progress");
  write([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(bool unused, markUnused(tx, t));
    TIDE_ASSIGN_OR_RETURN(bool notRunning, markInstanceNotRunning(tx, t, InstanceState::Stopped));
    TIDE_ASSIGN_OR_RETURN(bool over, startOver(tx, t));
    EXPECT_FALSE(unused || notRunning || over);
    return Status::ok();
  });
  EXPECT_EQ(row(), t);
}

TEST_F(TargetsTest, StartOverFromUnusedOrInvalidStateOnly) {
  model::Target t = stored(TargetHealthState::Unused, "Target.NotInUse", "");
  write([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(bool wrote, startOver(tx, t));
    EXPECT_TRUE(wrote);
    return Status::ok();
  });
  EXPECT_EQ(row().state, TargetHealthState::Initial);
  EXPECT_EQ(row().reason, "Elb.InitialHealthChecking");

  t = stored(TargetHealthState::Unhealthy, "Target.InvalidState", "Target is in the stopped state");
  write([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(bool wrote, startOver(tx, t));
    EXPECT_TRUE(wrote);
    return Status::ok();
  });
  EXPECT_EQ(row().state, TargetHealthState::Initial);
  EXPECT_EQ(row().description, "Initial health checks in progress");

  // Unhealthy by its checks: only passing checks bring it back.
  t = stored(TargetHealthState::Unhealthy, "Target.ResponseCodeMismatch",
             "Health checks failed with these codes: [500]");
  write([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(bool wrote, startOver(tx, t));
    EXPECT_FALSE(wrote);
    return Status::ok();
  });
  EXPECT_EQ(row(), t);
}

TEST_F(TargetsTest, HealthRecordWritesTheChecksVerdict) {
  model::Target t = stored(TargetHealthState::Initial, "Elb.InitialHealthChecking",
                           "Initial health checks in progress");
  t.state = TargetHealthState::Unhealthy;
  t.reason = "Target.ResponseCodeMismatch";
  t.description = "Health checks failed with these codes: [500]";
  t.consecutive = -2; // the checker's count: not stored
  write([&](store::Tx& tx) { return recordTargetHealth(tx, t); });
  model::Target h = row();
  EXPECT_EQ(h.state, TargetHealthState::Unhealthy);
  EXPECT_EQ(h.reason, "Target.ResponseCodeMismatch");
  EXPECT_EQ(h.description, "Health checks failed with these codes: [500]");
  EXPECT_EQ(h.consecutive, 0);
  EXPECT_EQ(h.registeredAt, 1000);

  t.state = TargetHealthState::Healthy;
  t.reason.clear();
  t.description.clear();
  write([&](store::Tx& tx) { return recordTargetHealth(tx, t); });
  EXPECT_EQ(row().state, TargetHealthState::Healthy);
  EXPECT_EQ(row().reason, "");
}

TEST_F(TargetsTest, HealthChecksNeitherDrainNorUnuse) {
  model::Target t = stored(TargetHealthState::Healthy);
  model::Target draining = t;
  draining.state = TargetHealthState::Draining;
  Status s = store_->transact([&](store::Tx& tx) { return recordTargetHealth(tx, draining); });
  EXPECT_EQ(s.code(), "InternalError");
  EXPECT_EQ(row(), t); // rolled back: nothing written
}

TEST_F(TargetsTest, TargetGroupInUseFollowsTheListeners) {
  write([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(bool before, targetGroupInUse(tx, kArn));
    EXPECT_FALSE(before);
    model::Listener l;
    l.listenerArn = "arn:listener/1";
    l.loadBalancerArn = "arn:lb/1";
    model::ListenerAction forward;
    forward.targetGroupArn = kArn;
    l.defaultActions = {forward};
    TIDE_RETURN_IF_ERROR(tx.putListener(l));
    TIDE_ASSIGN_OR_RETURN(bool after, targetGroupInUse(tx, kArn));
    EXPECT_TRUE(after);
    TIDE_ASSIGN_OR_RETURN(bool other, targetGroupInUse(tx, "arn:tg/other"));
    EXPECT_FALSE(other);
    return Status::ok();
  });
}

} // namespace
} // namespace tide::operations
