// Faults from below the store: a full file system (the reserve for deletes), another connection
// holding the write lock (busy), I/O errors. Each fault surfaces as InternalError naming its
// cause, changes nothing, and leaves a store that reads back and reopens.
#include "common/status_testing.h"
#include "store/space_reserve.h"
#include "store/sqlite_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

namespace tide::store {
namespace {

namespace fs = std::filesystem;

class StoreFaultsTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tide-store-faults-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "state.db").string();
  }
  void TearDown() override {
    if (mounted_) {
      ::umount2(dir_.c_str(), MNT_DETACH);
    }
    fs::remove_all(dir_);
  }

  std::unique_ptr<Store> open(const SqliteStoreOptions& o = {}) {
    auto s = openSqliteStore(path_, o);
    EXPECT_TRUE(s.isOk()) << s.status().toString();
    return s.isOk() ? std::move(*s) : nullptr;
  }

  // A tmpfs of `bytes` on the test's folder. False (the test skips) when not root.
  bool mountSmall(int64_t bytes) {
    if (::geteuid() != 0) {
      return false;
    }
    std::string opts = "size=" + std::to_string(bytes) + ",mode=0700";
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, opts.c_str()) != 0) {
      return false;
    }
    mounted_ = true;
    return true;
  }

  fs::path dir_;
  std::string path_;
  bool mounted_ = false;
};

model::Image image(const std::string& id, const std::string& name, size_t descriptionBytes = 0) {
  model::Image img;
  img.imageId = id;
  img.name = name;
  img.runCommand = "python3 server.py";
  img.description = std::string(descriptionBytes, 'd');
  img.creationDate = 1000;
  return img;
}

std::string imageId(int i) {
  std::string n = std::to_string(i);
  return "ami-" + std::string(17 - n.size(), '0') + n;
}

size_t imageCount(Store& store) {
  size_t n = 0;
  Status s = store.transact(
      [&](Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto all, tx.images());
        n = all.size();
        return Status::ok();
      },
      false);
  EXPECT_TRUE(s.isOk()) << s.toString();
  return n;
}

// Writes a file until the file system is full; returns its path.
std::string fillUp(const fs::path& dir) {
  std::string path = (dir / "filler").string();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  EXPECT_GE(fd, 0);
  std::string block(1 << 16, 'x');
  while (::write(fd, block.data(), block.size()) > 0) {
  }
  while (::write(fd, block.data(), 512) > 0) {
  }
  ::close(fd);
  return path;
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

TEST_F(StoreFaultsTest, AFileStoreKeepsAReserveAndAMemoryStoreNone) {
  auto store = open();
  struct stat st;
  ASSERT_EQ(::stat(reservePathFor(path_).c_str(), &st), 0);
  EXPECT_GE(int64_t(st.st_blocks) * 512, kDefaultReserveBytes); // allocated, not a hole
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(checkRoomForNewData(path_, "InsufficientInstanceCapacity", "x").isOk());
  EXPECT_TRUE(checkRoomForNewData(":memory:", "InsufficientInstanceCapacity", "x").isOk());
  auto memory = openSqliteStore(":memory:");
  ASSERT_TRUE(memory.isOk());
  EXPECT_FALSE(exists(":memory:-reserve"));
}

TEST_F(StoreFaultsTest, TheReserveIsSpentAStepAtATimeAndTakenBackWhole) {
  const std::string path = (dir_ / "r").string();
  SpaceReserve r(path, 8 << 20);
  EXPECT_TRUE(r.held());
  EXPECT_EQ(r.heldBytes(), 8 << 20);
  EXPECT_FALSE(r.spendIfLow()); // this disk has room
  for (int64_t left : {6 << 20, 4 << 20, 2 << 20, 0}) {
    EXPECT_TRUE(r.spend());
    EXPECT_EQ(r.heldBytes(), left);
    EXPECT_FALSE(r.held());
  }
  EXPECT_FALSE(exists(path));
  EXPECT_FALSE(r.spend()); // nothing left to give
  EXPECT_TRUE(r.refillIfRoom());
  EXPECT_EQ(r.heldBytes(), 8 << 20);
  EXPECT_FALSE(r.refillIfRoom()); // whole already
  SpaceReserve none(path + "-none", 0);
  EXPECT_FALSE(exists(path + "-none"));
  EXPECT_FALSE(none.spend());
}

// The whole story on a real full file system (root: a 16 MiB tmpfs): a write that needs space
// fails as InternalError naming the full file system and changes nothing; a delete still
// commits (spending the reserve); new data is refused while the reserve is spent; the store
// reads back and reopens; once space is freed the reserve comes back.
TEST_F(StoreFaultsTest, OnAFullFileSystemDeletesCommitAndWritesFailClearly) {
  if (!mountSmall(16 << 20)) {
    GTEST_SKIP() << "needs root to mount a small tmpfs (a real full file system)";
  }
  SqliteStoreOptions o;
  o.reserveBytes = 2 << 20;
  auto store = open(o);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(exists(reservePathFor(path_)));
  // Some rows, with documents large enough that their pages matter.
  for (int i = 1; i <= 40; ++i) {
    ASSERT_OK(store->transact(
        [&](Tx& tx) { return tx.putImage(image(imageId(i), "img-" + std::to_string(i), 20000)); }));
  }
  const std::string filler = fillUp(dir_);
  ASSERT_TRUE(exists(reservePathFor(path_))); // the filler took the rest, not the reserve
  EXPECT_EQ(checkRoomForNewData(path_, "InsufficientVolumeCapacity", "a new image", o.reserveBytes)
                .code(),
            "InsufficientVolumeCapacity");

  // A big write cannot fit even with the reserve: InternalError, nothing written.
  Status big = store->transact([&](Tx& tx) -> Status {
    for (int i = 100; i < 400; ++i) {
      TIDE_RETURN_IF_ERROR(tx.putImage(image(imageId(i), "big-" + std::to_string(i), 60000)));
    }
    return Status::ok();
  });
  EXPECT_EQ(big.code(), "InternalError");
  EXPECT_NE(big.message().find("is full"), std::string::npos) << big.toString();
  EXPECT_EQ(imageCount(*store), 40u);

  // Deletes commit: space can always be freed through the store.
  for (int i = 1; i <= 40; ++i) {
    Status s = store->transact([&](Tx& tx) { return tx.deleteImage(imageId(i)); });
    ASSERT_TRUE(s.isOk()) << "delete " << i << ": " << s.toString();
  }
  EXPECT_EQ(imageCount(*store), 0u);
  EXPECT_FALSE(exists(reservePathFor(path_))); // spent on them
  Status refused =
      checkRoomForNewData(path_, "InsufficientInstanceCapacity", "a new instance", o.reserveBytes);
  EXPECT_EQ(refused.code(), "InsufficientInstanceCapacity");
  EXPECT_NE(refused.message().find("full"), std::string::npos) << refused.toString();

  // Nothing is corrupted: the store reopens and passes SQLite's integrity check.
  store.reset();
  store = open(o);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(imageCount(*store), 0u);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "ok");
    sqlite3_finalize(st);
    sqlite3_close(db);
  }

  // Space freed (here by removing the filler; in tide by the deletes' files): the next
  // transaction takes the reserve back and new data is welcome again.
  fs::remove(filler);
  ASSERT_OK(store->transact([&](Tx& tx) { return tx.putImage(image(imageId(1), "again")); }));
  EXPECT_TRUE(exists(reservePathFor(path_)));
  EXPECT_OK(
      checkRoomForNewData(path_, "InsufficientInstanceCapacity", "a new instance", o.reserveBytes));
  EXPECT_EQ(imageCount(*store), 1u);
}

TEST_F(StoreFaultsTest, ACommitThatMeetsAFullDiskSpendsTheReserveAndCommits) {
  int fullCommits = 0;
  int64_t reserveAtRetry = -1;
  bool opened = false;
  SqliteStoreOptions o;
  o.faultHook = [&](const char* sql) {
    if (opened && std::string(sql) == "COMMIT") {
      if (fullCommits == 0) {
        ++fullCommits;
        return SQLITE_FULL;
      }
      struct stat st;
      reserveAtRetry =
          ::stat(reservePathFor(path_).c_str(), &st) == 0 ? int64_t(st.st_blocks) * 512 : 0;
    }
    return SQLITE_OK;
  };
  auto store = open(o);
  opened = true;
  ASSERT_OK(store->transact([&](Tx& tx) { return tx.putImage(image(imageId(1), "a")); }));
  EXPECT_EQ(fullCommits, 1);
  EXPECT_EQ(reserveAtRetry, kDefaultReserveBytes - kReserveStepBytes); // one step spent
  EXPECT_EQ(imageCount(*store), 1u);
  struct stat st;
  ASSERT_EQ(::stat(reservePathFor(path_).c_str(), &st), 0);
  EXPECT_GE(int64_t(st.st_blocks) * 512, kDefaultReserveBytes); // room here: taken back at once
}

TEST_F(StoreFaultsTest, AnotherConnectionHoldingTheWriteLockGivesInternalErrorAndChangesNothing) {
  SqliteStoreOptions o;
  o.busyTimeoutMs = 50;
  o.beginAttempts = 2;
  auto store = open(o);
  ASSERT_OK(store->transact([&](Tx& tx) { return tx.putImage(image(imageId(1), "a")); }));

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "DELETE FROM images", nullptr, nullptr, nullptr), SQLITE_OK);

  Status s = store->transact([&](Tx& tx) { return tx.deleteImage(imageId(1)); });
  EXPECT_EQ(s.code(), "InternalError");
  EXPECT_NE(s.message().find("busy"), std::string::npos) << s.toString();
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  EXPECT_EQ(imageCount(*store), 1u); // the delete did not happen
  ASSERT_OK(store->transact([&](Tx& tx) { return tx.putImage(image(imageId(2), "b")); }));
  EXPECT_EQ(imageCount(*store), 2u);
}

TEST_F(StoreFaultsTest, BusyIsRetriedABoundedNumberOfTimes) {
  int begins = 0;
  int busyFor = 0; // not while opening
  SqliteStoreOptions o;
  o.beginAttempts = 3;
  o.faultHook = [&](const char* sql) {
    if (std::string(sql) == "BEGIN IMMEDIATE" && begins++ < busyFor) {
      return SQLITE_BUSY;
    }
    return SQLITE_OK;
  };
  auto store = open(o);
  begins = 0;
  busyFor = 2;
  ASSERT_OK(store->transact([&](Tx& tx) { return tx.putImage(image(imageId(1), "a")); }));
  EXPECT_EQ(begins, 3); // two busy answers, then the lock

  begins = 0;
  busyFor = 100;
  bool ran = false;
  Status s = store->transact([&](Tx&) {
    ran = true;
    return Status::ok();
  });
  EXPECT_EQ(s.code(), "InternalError");
  EXPECT_EQ(begins, 3); // bounded
  EXPECT_FALSE(ran);
}

TEST_F(StoreFaultsTest, AnIoErrorAtCommitIsInternalErrorAndNothingIsKept) {
  bool failCommit = false;
  SqliteStoreOptions o;
  o.faultHook = [&](const char* sql) {
    return failCommit && std::string(sql) == "COMMIT" ? SQLITE_IOERR_WRITE : SQLITE_OK;
  };
  auto store = open(o);
  ASSERT_OK(store->transact([&](Tx& tx) { return tx.putImage(image(imageId(1), "a")); }));
  failCommit = true;
  int notified = 0;
  store->onChange([&] { ++notified; });
  Status s = store->transact([&](Tx& tx) {
    TIDE_RETURN_IF_ERROR(tx.deleteImage(imageId(1)));
    return tx.putImage(image(imageId(2), "b"));
  });
  EXPECT_EQ(s.code(), "InternalError");
  EXPECT_NE(s.message().find("I/O error"), std::string::npos) << s.toString();
  EXPECT_EQ(notified, 0);
  failCommit = false;
  EXPECT_EQ(imageCount(*store), 1u);
  store.reset();
  store = open();
  std::vector<model::Image> all;
  ASSERT_OK(store->transact([&](Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(all, tx.images());
    return Status::ok();
  }));
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].imageId, imageId(1));
}

} // namespace
} // namespace tide::store
