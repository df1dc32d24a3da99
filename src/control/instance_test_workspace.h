// What the instance controller's tests (instance_controller_test, launch_preparation_test)
// start from: a scratch directory named for the test, a store in it, and an image store
// holding one image (a server.py).
#pragma once

#include "common/status_testing.h"
#include "model/types.h"
#include "runtime/image_store.h"
#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

namespace tide::control {

struct InstanceTestWorkspace {
  std::filesystem::path dir;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<runtime::ImageStore> images;
  std::string digest; // the image's content digest
  int count = 0;      // instances added

  // Makes it in /tmp/<prefix>-<pid>-<test name>; an error when the store cannot be opened or
  // the image cannot be imported.
  Status open(const std::string& prefix) {
    namespace fs = std::filesystem;
    dir = fs::temp_directory_path() /
          (prefix + "-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir / "src");
    FILE* f = std::fopen((dir / "src" / "server.py").c_str(), "w");
    if (f == nullptr) {
      return internalError("cannot write " + (dir / "src" / "server.py").string());
    }
    std::fputs("print('hi')\n", f);
    std::fclose(f);
    TIDE_ASSIGN_OR_RETURN(store, store::openSqliteStore((dir / "state.db").string()));
    images = std::make_unique<runtime::ImageStore>((dir / "images").string());
    TIDE_ASSIGN_OR_RETURN(auto content, images->importDirectory((dir / "src").string()));
    digest = content.digest;
    return Status::ok();
  }
  // Stores a pending instance of the image (i-000...N, 127.1.0.N:8080) and returns its id.
  std::string addInstance(const std::string& type = "t3.micro",
                          std::vector<model::EnvironmentVariable> environment = {}) {
    model::Instance i;
    char id[32];
    std::snprintf(id, sizeof id, "i-%017x", ++count);
    i.instanceId = id;
    i.imageId = "ami-00000000000000001";
    i.contentDigest = digest;
    i.runCommand = "python3 server.py";
    i.instanceType = type;
    i.privateIpAddress = "127.1.0." + std::to_string(count);
    i.port = 8080;
    i.environment = std::move(environment);
    EXPECT_OK(store->transact([&](store::Tx& tx) { return tx.putInstance(i); }));
    return i.instanceId;
  }
  // The instance as stored (a failed expectation when it is not).
  model::Instance get(const std::string& id) {
    model::Instance out;
    EXPECT_OK(store->transact([&](store::Tx& tx) {
      auto i = tx.instance(id);
      EXPECT_TRUE(i.isOk() && i->has_value()) << id;
      if (i.isOk() && i->has_value()) {
        out = **i;
      }
      return Status::ok();
    }));
    return out;
  }
  void setGoal(const std::string& id, model::InstanceGoal goal) {
    model::Instance i = get(id);
    i.goal = goal;
    EXPECT_OK(store->transact([&](store::Tx& tx) { return tx.putInstance(i); }));
  }

  ~InstanceTestWorkspace() {
    if (!dir.empty()) {
      std::filesystem::remove_all(dir);
    }
  }
};

} // namespace tide::control
