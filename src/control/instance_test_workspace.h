// What the instance controller's tests (instance_controller_test, launch_preparation_test)
// start from: a scratch directory named for the test, a store in it, and an image store
// holding one image (a server.py).
#pragma once

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
  ~InstanceTestWorkspace() {
    if (!dir.empty()) {
      std::filesystem::remove_all(dir);
    }
  }
};

} // namespace tide::control
