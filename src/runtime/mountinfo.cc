#include "runtime/mountinfo.h"

#include "common/text.h"

#include <algorithm>

namespace tide::runtime {

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo octal.
std::string unescapeOctal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      bool octal = true;
      for (size_t k = 1; k <= 3; ++k) {
        if (s[i + k] < '0' || s[i + k] > '7') {
          octal = false;
        }
      }
      if (octal) {
        out += char((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::vector<std::string_view> splitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') {
      ++i;
    }
    size_t start = i;
    while (i < line.size() && line[i] != ' ') {
      ++i;
    }
    if (i > start) {
      fields.push_back(line.substr(start, i - start));
    }
  }
  return fields;
}

bool isUnder(const std::string& path, const std::string& dir) {
  if (path == dir) {
    return true;
  }
  if (dir == "/") {
    return !path.empty() && path[0] == '/';
  }
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         path[dir.size()] == '/';
}

} // namespace

std::vector<MountEntry> parseMountInfo(std::string_view text) {
  std::vector<MountEntry> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
    std::vector<std::string_view> f = splitFields(line);
    auto dash = std::find(f.begin(), f.end(), std::string_view("-"));
    if (f.size() < 7 || dash == f.end() || dash - f.begin() < 6 || f.end() - dash < 3) {
      continue;
    }
    MountEntry e;
    e.mountPoint = unescapeOctal(f[4]);
    e.fsType = std::string(dash[1]);
    e.source = unescapeOctal(dash[2]);
    e.superOptions = f.end() - dash >= 4 ? std::string(dash[3]) : std::string();
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<MountEntry> readMountInfo() {
  auto text = readFile("/proc/self/mountinfo");
  if (!text) {
    return {};
  }
  return parseMountInfo(*text);
}

bool isMountPoint(const std::vector<MountEntry>& mounts, const std::string& path) {
  return std::any_of(mounts.begin(), mounts.end(),
                     [&](const MountEntry& m) { return m.mountPoint == path; });
}

std::vector<std::string> mountsUnder(const std::vector<MountEntry>& mounts,
                                     const std::string& dir) {
  std::vector<std::string> out;
  for (const MountEntry& m : mounts) {
    if (isUnder(m.mountPoint, dir)) {
      out.push_back(m.mountPoint);
    }
  }
  // Deepest first; a path mounted twice appears twice (one unmount per layer).
  std::stable_sort(out.begin(), out.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

bool hasOption(std::string_view options, std::string_view option) {
  for (const std::string& o : splitString(options, ',')) {
    if (o == option) {
      return true;
    }
  }
  return false;
}

} // namespace tide::runtime
