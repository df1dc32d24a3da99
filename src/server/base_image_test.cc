// The built-in base image's registration at server start, and the page of its web server.
#include "server/base_image.h"
#include "server/serve_static.h"

#include "common/status_testing.h"
#include "model/public_parameters.h"
#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

namespace tide::server {
namespace {

namespace fs = std::filesystem;

class BaseImageTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tide-base-image-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = std::move(*store::openSqliteStore((dir_ / "state.db").string()));
    images_ = std::make_unique<runtime::ImageStore>((dir_ / "images").string());
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<model::Image> images() {
    std::vector<model::Image> out;
    EXPECT_OK(store_->transact([&](store::Tx& tx) -> Status {
      out = *tx.images();
      return Status::ok();
    }));
    return out;
  }

  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<runtime::ImageStore> images_;
};

TEST_F(BaseImageTest, RegisteredOnceWithItsFixedIdAndRepairedWhenMoved) {
  ASSERT_OK(ensureBaseImage(*store_, *images_, dir_.string(), "/opt/tide/bin/tide"));
  auto all = images();
  ASSERT_EQ(all.size(), 1u);
  const model::Image& img = all[0];
  EXPECT_EQ(img.imageId, model::kBaseImageId);
  EXPECT_EQ(img.name, model::kBaseImageName);
  EXPECT_EQ(img.state, model::ImageState::Pending);
  EXPECT_EQ(img.port, 80);
  EXPECT_EQ(img.healthCheckPath, "/health");
  EXPECT_EQ(img.runCommand, "exec '/opt/tide/bin/tide' serve-static");
  EXPECT_TRUE(fs::is_regular_file(dir_ / "base-image" / "Procfile"));

  // Imported (as the image controller would), then a second start changes nothing.
  auto content = images_->importDirectory((dir_ / "base-image").string());
  ASSERT_TRUE(content);
  ASSERT_OK(store_->transact([&](store::Tx& tx) {
    model::Image i = img;
    i.state = model::ImageState::Available;
    i.contentDigest = content->digest;
    return tx.putImage(i);
  }));
  ASSERT_OK(ensureBaseImage(*store_, *images_, dir_.string(), "/opt/tide/bin/tide"));
  EXPECT_EQ(images()[0].state, model::ImageState::Available);

  // The binary moved: the same image runs the new path.
  ASSERT_OK(ensureBaseImage(*store_, *images_, dir_.string(), "/it's/here/tide"));
  all = images();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].runCommand, "exec '/it'\\''s/here/tide' serve-static");
  EXPECT_EQ(all[0].state, model::ImageState::Available);

  // Its files are gone: imported again.
  ASSERT_OK(images_->remove(content->digest));
  ASSERT_OK(ensureBaseImage(*store_, *images_, dir_.string(), "/it's/here/tide"));
  EXPECT_EQ(images()[0].state, model::ImageState::Pending);
}

TEST_F(BaseImageTest, AnImageWithItsNameBlocksIt) {
  ASSERT_OK(store_->transact([&](store::Tx& tx) {
    model::Image i;
    i.imageId = "ami-0123456789abcdef0";
    i.name = model::kBaseImageName;
    return tx.putImage(i);
  }));
  Status s = ensureBaseImage(*store_, *images_, dir_.string(), "/bin/tide");
  EXPECT_EQ(s.code(), "InvalidAMIName.Duplicate");
  EXPECT_EQ(images().size(), 1u);
}

TEST(ServeStatic, PageNamesTheInstanceEscaped) {
  std::string page =
      baseImagePage("i-0123456789abcdef0", "t3.micro", "ami-0ee8d2b74358b2001", "127.1.0.3:80");
  EXPECT_NE(page.find("<h1>Hello from i-0123456789abcdef0</h1>"), std::string::npos) << page;
  EXPECT_NE(page.find("href=\"/health\""), std::string::npos);
  EXPECT_NE(page.find("127.1.0.3:80"), std::string::npos);
  page = baseImagePage("<i>&", "t", "a", "h");
  EXPECT_NE(page.find("&lt;i&gt;&amp;"), std::string::npos);
  EXPECT_EQ(page.find("<i>"), std::string::npos);
}

} // namespace
} // namespace tide::server
