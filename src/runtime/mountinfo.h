// What is mounted where, from /proc/self/mountinfo (proc(5)): used to find cgroup hierarchies
// and to tell whether an instance's overlay is mounted.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tide::runtime {

struct MountEntry {
  std::string mountPoint;   // unescaped absolute path
  std::string fsType;       // "cgroup", "cgroup2", "overlay", ...
  std::string source;       // mount source ("overlay", "/dev/sda1", ...)
  std::string superOptions; // per-superblock options; for cgroup v1 they name the controllers
};

// Parses the text of a mountinfo file; malformed lines are skipped.
std::vector<MountEntry> parseMountInfo(std::string_view text);

// The current mount table of this process (empty if /proc is not readable).
std::vector<MountEntry> readMountInfo();

// True when path (absolute, normalized, no symlinks) is a mount point in the given table.
bool isMountPoint(const std::vector<MountEntry>& mounts, const std::string& path);

// Mount points at or below dir, deepest first (for unmounting a subtree).
std::vector<std::string> mountsUnder(const std::vector<MountEntry>& mounts, const std::string& dir);

// True when the comma-separated option list contains option exactly.
bool hasOption(std::string_view options, std::string_view option);

} // namespace tide::runtime
