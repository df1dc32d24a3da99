// What the Auto Scaling group controller's tests share: a fresh directory and store per test,
// and the shop: its image, launch template (version 1: the image on a t3.micro), target group
// and a group on them.
#pragma once

#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

namespace tide::control::testing {

// A temporary directory named after the running test, emptied first.
inline std::filesystem::path freshTestDir(const std::string& prefix) {
  namespace fs = std::filesystem;
  fs::path dir =
      fs::temp_directory_path() / (prefix + "-" + std::to_string(::getpid()) + "-" +
                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A store in `dir` (state.db).
inline std::unique_ptr<store::Store> openTestStore(const std::filesystem::path& dir) {
  return std::move(*store::openSqliteStore((dir / "state.db").string()));
}

struct Shop {
  model::Image image;                   // ami-00000000000000001, python3 server.py
  model::LaunchTemplate launchTemplate; // lt-00000000000000001 "shop"
  model::LaunchTemplateVersion version; // its version 1: the image on a t3.micro (0.25 cores)
  model::TargetGroup targetGroup;       // "web" on 8080, 5 s deregistration delay
  model::AutoScalingGroup group;        // "web" on the template, in the target group, max 10
};

inline Shop shop() {
  Shop s;
  s.image.imageId = "ami-00000000000000001";
  s.image.name = "shop";
  s.image.state = model::ImageState::Available;
  s.image.runCommand = "python3 server.py";
  s.launchTemplate.launchTemplateId = "lt-00000000000000001";
  s.launchTemplate.launchTemplateName = "shop";
  s.version.launchTemplateId = s.launchTemplate.launchTemplateId;
  s.version.launchTemplateName = s.launchTemplate.launchTemplateName;
  s.version.data.imageId = s.image.imageId;
  s.version.data.instanceType = "t3.micro";
  s.targetGroup.targetGroupArn = "arn:tg/web";
  s.targetGroup.targetGroupName = "web";
  s.targetGroup.port = 8080;
  s.targetGroup.deregistrationDelaySeconds = 5;
  s.group.autoScalingGroupName = "web";
  s.group.launchTemplateId = s.launchTemplate.launchTemplateId;
  s.group.launchTemplateName = s.launchTemplate.launchTemplateName;
  s.group.maxSize = 10;
  s.group.targetGroupArns = {s.targetGroup.targetGroupArn};
  return s;
}

// Puts the shop's image, launch template, its version 1 (unless `withVersion` is false) and
// target group (not the group).
inline Status putShop(store::Tx& tx, const Shop& s, bool withVersion = true) {
  TIDE_RETURN_IF_ERROR(tx.putImage(s.image));
  TIDE_RETURN_IF_ERROR(tx.putLaunchTemplate(s.launchTemplate));
  if (withVersion) {
    TIDE_RETURN_IF_ERROR(tx.insertLaunchTemplateVersion(s.version));
  }
  return tx.putTargetGroup(s.targetGroup);
}

// The group `name` as stored (a default group, and a failed expectation, when it is not).
inline model::AutoScalingGroup readGroup(store::Store& store, const std::string& name) {
  model::AutoScalingGroup g;
  EXPECT_TRUE(store
                  .transact(
                      [&](store::Tx& tx) -> Status {
                        TIDE_ASSIGN_OR_RETURN(auto got, tx.autoScalingGroup(name));
                        if (!got.has_value()) {
                          return internalError("no group " + name);
                        }
                        g = *got;
                        return Status::ok();
                      },
                      false)
                  .isOk());
  return g;
}

// The group's last 100 scaling activities, newest first.
inline std::vector<model::ScalingActivity> readActivities(store::Store& store,
                                                          const std::string& name) {
  std::vector<model::ScalingActivity> out;
  EXPECT_TRUE(store
                  .transact(
                      [&](store::Tx& tx) -> Status {
                        TIDE_ASSIGN_OR_RETURN(out, tx.scalingActivities(name, 100));
                        return Status::ok();
                      },
                      false)
                  .isOk());
  return out;
}

} // namespace tide::control::testing
