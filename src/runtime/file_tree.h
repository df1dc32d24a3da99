// Walking and copying trees of files (regular files, directories, symlinks), shared by the
// image store (import) and the local provider's "copy" disk mode.
#pragma once

#include "common/status.h"

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tide::runtime {

class Sha256;

enum class EntryType {
  Directory, // a directory (its entries are listed separately)
  Regular,   // a regular file
  Symlink,   // a symbolic link, kept as a link (never followed)
};

struct TreeEntry {
  std::string relPath; // relative to the walked root, '/'-separated, never empty
  EntryType type = EntryType::Regular;
  mode_t mode = 0;        // permission bits (07777)
  int64_t size = 0;       // bytes, for regular files
  std::string linkTarget; // for symlinks: the target, verbatim
};

// Every entry below dir (dir itself excluded), sorted by relPath (bytewise). Symlinks are not
// followed. Errors: "InvalidParameterValue" naming the path of a device file, fifo or socket;
// "InternalError" when something cannot be read.
Result<std::vector<TreeEntry>> listTree(const std::string& dir);

// Copies one regular file to dst (which must not exist) and sets its permission bits to mode.
// With tryReflink, first asks the file system to share the blocks (FICLONE), then falls back
// to copying bytes. When hash is given it is fed the file's contents.
Status copyRegularFile(const std::string& src, const std::string& dst, mode_t mode, bool tryReflink,
                       Sha256* hash);

// Creates dst (which must not exist) holding a copy of the tree at src with the permission
// bits of each entry; dst itself gets rootMode. On failure dst may be partly written: the
// caller removes it. When hashes is given it receives each regular file's hex SHA-256, in the
// order of entries. When cancelled is given it is asked before each entry; once it says true
// the copy stops with "Cancelled" (dst partly written, as for any failure).
Status copyTree(const std::string& src, const std::vector<TreeEntry>& entries,
                const std::string& dst, mode_t rootMode, bool tryReflink,
                std::vector<std::string>* hashes, const std::function<bool()>& cancelled = nullptr);

// Removes path and everything below it without following symlinks; a missing path is OK.
Status removeTree(const std::string& path);

// "strerror(errno)" as a std::string.
std::string errnoText(int err);

// Creates path (which must not exist) with exactly `mode` and writes data to it. On failure the
// file is removed and the error names the path.
Status writeNewFile(const std::string& path, const std::string& data, mode_t mode);

} // namespace tide::runtime
