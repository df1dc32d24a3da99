// Helpers shared by the runtime module's tests: temporary folders and small file writes.
#pragma once

#include "runtime/disk.h"
#include "runtime/file_tree.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

namespace tide::runtime::testing {

// A folder under /tmp made for one test and removed (after unmounting anything left in it)
// when the test ends.
class TempDir {
public:
  TempDir() {
    std::string tmpl = "/tmp/tide-runtime-test-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      abort();
    }
    path_ = tmpl;
  }
  ~TempDir() {
    if (InstanceDisk::unmountAll(path_).isOk()) {
      removeTree(path_).ignoreError(); // best effort: a test directory left behind is harmless
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

private:
  std::string path_;
};

inline void writeFile(const std::string& path, const std::string& data, mode_t mode = 0644) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
  }
  chmod(path.c_str(), mode);
}

// What the file at `path` holds on the disk (its allocated blocks), in bytes. A file that cannot
// be read fails the test (and gives -1).
inline int64_t allocatedBytes(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    ADD_FAILURE() << "cannot stat " << path;
    return -1;
  }
  return int64_t(st.st_blocks) * 512;
}

inline std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Polls cond every 10 ms for up to timeout; true when it held.
inline bool waitFor(const std::function<bool()>& cond,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

} // namespace tide::runtime::testing
