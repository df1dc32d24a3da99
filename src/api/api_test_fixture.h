// The fixture of the action tests: the action table over a real SQLite store in a temporary
// directory, through the JSON wire format, with a virtual clock and a fake host.
#pragma once

#include "api/dispatch.h"
#include "common/status_testing.h"
#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <unistd.h>

namespace tide::api {

namespace fs = std::filesystem;

class FakeHost final : public HostView {
public:
  Result<std::string> consoleOutput(const std::string&, size_t) override { return console; }
  std::string instanceDirectory(const std::string&) override { return "/disks/x"; }
  Json describe() override { return {{"Cgroups", "none"}}; }
  std::optional<model::InstanceUsage> instanceUsage(const std::string& instanceId) override {
    auto it = usage.find(instanceId);
    return it == usage.end() ? std::nullopt : std::optional<model::InstanceUsage>(it->second);
  }
  Status canListen(const std::string& ip, int port) override {
    auto it = refusedListens.find(ip + ":" + std::to_string(port));
    return it == refusedListens.end() ? Status::ok() : it->second;
  }
  std::string console = "hello from the app\n";
  std::map<std::string, Status> refusedListens;      // "ip:port" -> what canListen answers
  std::map<std::string, model::InstanceUsage> usage; // readings by instance id
};

class ApiTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tide-api-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "app");
    store_ = std::move(*store::openSqliteStore((dir_ / "state.db").string()));
    ctx_ = std::make_unique<ActionContext>(ActionContext{*store_, clock_, host_, {}});
    ctx_->limits.maxCpuCores = 2.0;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Calls an action; returns the HTTP status and the body.
  std::pair<int, Json> call(const std::string& action, const Json& params) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.headers = {{"x-amz-target", "TideService." + action}};
    r.body = params.dump();
    HttpResponse resp = handleApiRequest(*ctx_, r);
    return {resp.status, Json::parse(resp.body)};
  }
  Json ok(const std::string& action, const Json& params) {
    auto [status, body] = call(action, params);
    EXPECT_EQ(status, 200) << action << ": " << body.dump();
    return body;
  }
  std::string errorCode(const std::string& action, const Json& params) {
    auto [status, body] = call(action, params);
    EXPECT_EQ(status, 400) << body.dump();
    return body.value("__type", "");
  }
  // A refused call's error code and message.
  std::pair<std::string, std::string> error(const std::string& action, const Json& params) {
    auto [status, body] = call(action, params);
    EXPECT_EQ(status, 400) << body.dump();
    return {body.value("__type", ""), body.value("message", "")};
  }

  // An image made available as the image controller would.
  std::string availableImage(const std::string& name = "shop-v1") {
    Json r = ok("CreateImage", {{"Name", name},
                                {"SourceDirectory", (dir_ / "app").string()},
                                {"RunCommand", "python3 server.py"},
                                {"Port", 9000}});
    std::string id = r["ImageId"];
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      auto img = tx.image(id);
      model::Image i = **img;
      i.state = model::ImageState::Available;
      i.contentDigest = "sha256:00";
      return tx.putImage(i);
    }));
    return id;
  }

  size_t instanceCount() {
    size_t n = 0;
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      n = tx.instances()->size();
      return Status::ok();
    }));
    return n;
  }

  fs::path dir_;
  VirtualClock clock_;
  FakeHost host_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ActionContext> ctx_;
};

} // namespace tide::api
