// The image controller over a real store and a real image store: imports run on its worker,
// results are recorded at the next pass, a deregistration meanwhile wins, a result that cannot
// be recorded is kept, and a stop abandons a held import with the image still pending.
#include "common/status_testing.h"
#include "control/image_controller.h"
#include "store/faulty_store.h"
#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

namespace tide::control {
namespace {

namespace fs = std::filesystem;

// Instances are not this test's concern: images from a directory only.
class NoInstances final : public runtime::InstanceProvider {
public:
  Result<runtime::ProcessRef> start(const runtime::LaunchSpec&) override {
    return internalError("no instances here");
  }
  runtime::ProcessStatus status(const std::string&, const runtime::ProcessRef&) override {
    return {runtime::ProcessState::Exited, ""};
  }
  Status signal(const std::string&, const runtime::ProcessRef&, int) override {
    return Status::ok();
  }
  Result<runtime::Usage> usage(const std::string&, const runtime::ProcessRef&) override {
    return runtime::Usage{};
  }
  Status releaseProcess(const std::string&) override { return Status::ok(); }
  Status destroy(const std::string&) override { return Status::ok(); }
  std::string diskPath(const std::string&) const override { return ""; }
  std::string consoleLogPath(const std::string&) const override { return ""; }
  std::vector<std::string> knownInstances() const override { return {}; }
  runtime::ProviderInfo info() const override { return {"none", "", "copy", ""}; }
};

class ImageControllerTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tide-image-controller-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "app");
    std::ofstream(dir_ / "app" / "server.py") << "print('hello')\n";
    store_ = std::move(*store::openSqliteStore((dir_ / "state.db").string()));
    faulty_ = std::make_unique<store::FaultyStore>(*store_);
    images_ = std::make_unique<runtime::ImageStore>((dir_ / "images").string());
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<ImageController> controller(ImageControllerOptions o = {}) {
    return std::make_unique<ImageController>(*faulty_, *images_, provider_, std::move(o));
  }
  void pending(const std::string& id) {
    model::Image img;
    img.imageId = id;
    img.name = id;
    img.sourceDirectory = (dir_ / "app").string();
    ASSERT_OK(store_->transact([&](store::Tx& tx) { return tx.putImage(img); }));
  }
  std::optional<model::Image> image(const std::string& id) {
    std::optional<model::Image> out;
    EXPECT_OK(store_->transact([&](store::Tx& tx) -> Status {
      TIDE_ASSIGN_OR_RETURN(out, tx.image(id));
      return Status::ok();
    }));
    return out;
  }

  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::FaultyStore> faulty_;
  std::unique_ptr<runtime::ImageStore> images_;
  NoInstances provider_;
};

TEST_F(ImageControllerTest, ImportsOnItsWorkerAndRecordsAtTheNextPass) {
  std::atomic<int> ended{0};
  ImageControllerOptions o;
  o.importEnded = [&] { ++ended; };
  auto c = controller(std::move(o));
  pending("ami-00000000000000001");
  pending("ami-00000000000000002");
  ASSERT_OK(c->reconcile()); // hands the first over and returns
  EXPECT_TRUE(c->importing());
  c->waitForImport();
  // importEnded runs on the worker just after the result is in: wait for it, bounded.
  for (int i = 0; i < 5000 && ended == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(ended, 1);
  EXPECT_EQ(image("ami-00000000000000001")->state, model::ImageState::Pending); // not yet
  ASSERT_OK(c->reconcile()); // records it, hands the second over
  auto first = image("ami-00000000000000001");
  EXPECT_EQ(first->state, model::ImageState::Available);
  EXPECT_TRUE(images_->contains(first->contentDigest));
  EXPECT_EQ(first->fileCount, 1);
  c->waitForImport();
  ASSERT_OK(c->reconcile());
  EXPECT_EQ(image("ami-00000000000000002")->state, model::ImageState::Available);
  EXPECT_FALSE(c->importing());
}

TEST_F(ImageControllerTest, AnImageDeregisteredDuringItsImportStaysGoneAndItsFilesGo) {
  auto c = controller();
  pending("ami-00000000000000001");
  ASSERT_OK(c->reconcile());
  ASSERT_OK(
      store_->transact([&](store::Tx& tx) { return tx.deleteImage("ami-00000000000000001"); }));
  c->waitForImport();
  EXPECT_EQ(images_->list().size(), 1u); // copied, not yet recorded: kept
  ASSERT_OK(c->reconcile());             // records nothing, removes the unused files
  EXPECT_FALSE(image("ami-00000000000000001").has_value());
  EXPECT_TRUE(images_->list().empty());
}

TEST_F(ImageControllerTest, AResultThatCannotBeRecordedIsKeptForTheNextPass) {
  auto c = controller();
  pending("ami-00000000000000001");
  ASSERT_OK(c->reconcile());
  c->waitForImport();
  faulty_->fault = [](const std::string& call, const std::string&) {
    return call == "putImage" ? internalError("disk I/O error") : Status::ok();
  };
  EXPECT_FALSE(c->reconcile().isOk());
  EXPECT_EQ(image("ami-00000000000000001")->state, model::ImageState::Pending);
  EXPECT_EQ(images_->list().size(), 1u); // its files stay: the result waits
  faulty_->fault = nullptr;
  ASSERT_OK(c->reconcile());
  EXPECT_EQ(image("ami-00000000000000001")->state, model::ImageState::Available);
}

TEST_F(ImageControllerTest, AStopAbandonsAHeldImportAndTheImageStaysPending) {
  fs::path hold = dir_ / "hold";
  std::ofstream(hold).put('x');
  ImageControllerOptions o;
  o.holdWhileExists = hold.string();
  auto c = controller(std::move(o));
  pending("ami-00000000000000001");
  ASSERT_OK(c->reconcile());
  EXPECT_TRUE(c->importing());
  c->stop(); // returns although the import is held
  c.reset();
  EXPECT_EQ(image("ami-00000000000000001")->state, model::ImageState::Pending);
  EXPECT_TRUE(images_->list().empty());
  // The next controller (a restart) imports it.
  fs::remove(hold);
  auto next = controller();
  ASSERT_OK(next->reconcile());
  next->waitForImport();
  ASSERT_OK(next->reconcile());
  EXPECT_EQ(image("ami-00000000000000001")->state, model::ImageState::Available);
}

} // namespace
} // namespace tide::control
