// An instance's console log (its processes' stdout and stderr, appended by the kernel to
// console.log in its folder) kept within bounds: EC2 keeps the latest 64 KB of an instance's
// console output, and an instance that writes without end must not fill the host's data
// directory (docs/instances.md "Console output").
//
// The instance writes to the file directly (O_APPEND, no pipe through tide), so trimming takes
// the file's head away under the writers: FALLOC_FL_COLLAPSE_RANGE (ext4, xfs) removes whole
// blocks from the start, and appends go on at the new end; where the file system cannot
// collapse (tmpfs, overlayfs), FALLOC_FL_PUNCH_HOLE frees the head's blocks and keeps the
// offsets (the file stays sparse, its tail readable as before).
#pragma once

#include "common/status.h"

#include <cstdint>
#include <string>

namespace tide::runtime {

// What a console log may hold on the host before it is trimmed, and what a trim keeps.
inline constexpr int64_t kConsoleLogMaxBytes = 1 << 20;   // 1 MiB
inline constexpr int64_t kConsoleLogKeepBytes = 64 << 10; // EC2's 64 KB, at least

enum class ConsoleTrim { None, Collapsed, Punched };

// When the file at `path` uses more than maxBytes of the disk, drops its head so that about
// keepBytes (at least, rounded to whole blocks) of the latest output stay. A missing file is
// not an error (nothing written yet). Errors: InternalError naming the file and the cause.
Result<ConsoleTrim> trimConsoleLog(const std::string& path, int64_t maxBytes = kConsoleLogMaxBytes,
                                   int64_t keepBytes = kConsoleLogKeepBytes);

} // namespace tide::runtime
