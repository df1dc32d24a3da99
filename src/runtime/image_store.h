// Content-addressed storage of image files (the "golden image" contents).
//
// Layout under root: <root>/<hex sha256 digest>/rootfs/... holds one image's files, never
// written after it is complete; <root>/.tmp-* are imports in progress. The digest covers a
// canonical manifest of the tree (sorted relative paths, file type, permission bits, file
// contents' SHA-256, symlink targets), so two imports of identical trees share one copy.
// Not thread-safe: used from the control thread only.
#pragma once

#include "common/status.h"

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tide::runtime {

struct ImageContent {
  std::string digest;    // "sha256:" + 64 hex digits
  int64_t sizeBytes = 0; // sum of regular files' sizes
  int64_t fileCount = 0; // regular files, directories and symlinks
};

class ImageStore {
public:
  explicit ImageStore(std::string root);

  // Copies the tree at dir (regular files, directories, symlinks; other kinds are an error)
  // into the store and returns its digest. Atomic: on failure nothing is left behind; when the
  // same content is already stored it is reused. Errors: "InvalidParameterValue" when dir does
  // not exist or is not a directory, "InternalError" on I/O failure.
  Result<ImageContent> importDirectory(const std::string& dir);

  // The same, reading dir with the rights of uid/gid (no supplementary groups) rather than the
  // server's: a child process that dropped to them copies the tree into a staging folder only it
  // and root can reach, and the import then reads that copy. When the server is not root it
  // cannot change ids and reads with its own. Errors as importDirectory, and
  // "InvalidParameterValue" naming what uid could not read.
  Result<ImageContent> importDirectoryAs(const std::string& dir, uid_t uid, gid_t gid);

  // Path of the read-only tree of a stored digest ("<root>/<hex>/rootfs").
  std::string rootfsPath(const std::string& digest) const;
  bool contains(const std::string& digest) const;
  // Removes a stored tree. The caller makes sure nothing uses it.
  Status remove(const std::string& digest);
  // Every digest stored.
  std::vector<std::string> list() const;
  // Removes leftovers of interrupted imports (.tmp-*). Called at start-up.
  void removeIncompleteImports();

private:
  std::string root_;
};

} // namespace tide::runtime
