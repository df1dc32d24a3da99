#include "runtime/image_store.h"

#include "common/crash_point.h"
#include "runtime/file_tree.h"
#include "runtime/sha256.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace tide::runtime {

namespace {

constexpr std::string_view kDigestPrefix = "sha256:";

bool isHex64(std::string_view s) {
  if (s.size() != 64) {
    return false;
  }
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

// The hex part of a well-formed digest, or empty.
std::string hexOf(const std::string& digest) {
  if (digest.size() != kDigestPrefix.size() + 64 || digest.compare(0, 7, kDigestPrefix) != 0) {
    return "";
  }
  std::string hex = digest.substr(kDigestPrefix.size());
  return isHex64(hex) ? hex : "";
}

// "<length>:<bytes>", so that any byte (newline, space) in a name stays unambiguous.
std::string lengthPrefixed(const std::string& s) {
  return std::to_string(s.size()) + ":" + s;
}

std::string octalMode(mode_t mode) {
  char buf[8];
  snprintf(buf, sizeof buf, "%04o", unsigned(mode & 07777));
  return buf;
}

// The canonical manifest: one line per entry in relPath order. The root directory's own mode
// is not part of the content (it is always 0755 in the store), so the same files imported from
// a mkdtemp() folder and from a plain mkdir() folder share one digest.
std::string buildManifest(const std::vector<TreeEntry>& entries,
                          const std::vector<std::string>& fileHashes) {
  std::string m = "tide-image-manifest v1\n";
  size_t nextHash = 0;
  for (const TreeEntry& e : entries) {
    switch (e.type) {
    case EntryType::Directory:
      m += "d " + octalMode(e.mode) + " " + lengthPrefixed(e.relPath) + "\n";
      break;
    case EntryType::Regular:
      m += "f " + octalMode(e.mode) + " " + lengthPrefixed(e.relPath) +
           " sha256:" + fileHashes[nextHash++] + "\n";
      break;
    case EntryType::Symlink:
      m += "l " + lengthPrefixed(e.relPath) + " " + lengthPrefixed(e.linkTarget) + "\n";
      break;
    }
  }
  return m;
}

} // namespace

ImageStore::ImageStore(std::string root) : root_(std::move(root)) {}

Result<ImageContent> ImageStore::importDirectory(const std::string& dir) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return Status("InvalidParameterValue", dir + " does not exist");
    }
    return Status("InvalidParameterValue", "cannot read " + dir + ": " + errnoText(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status("InvalidParameterValue", dir + " is not a directory");
  }
  TIDE_ASSIGN_OR_RETURN(std::vector<TreeEntry> entries, listTree(dir));

  std::error_code ec;
  std::filesystem::create_directories(root_, ec);
  if (ec) {
    return internalError("cannot create image store folder " + root_ + ": " + ec.message());
  }
  std::string tmpl = root_ + "/.tmp-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    return internalError("cannot create a folder in " + root_ + ": " + errnoText(errno));
  }
  const std::string tmp = tmpl;
  auto fail = [&](Status s) -> Result<ImageContent> {
    removeTree(tmp).ignoreError(); // already failing: s says why
    return s;
  };

  std::vector<std::string> hashes;
  TIDE_CRASH_POINT("image.import.copy");
  Status copied = copyTree(dir, entries, tmp + "/rootfs", 0755, /*tryReflink=*/true, &hashes);
  if (!copied.isOk()) {
    return fail(copied);
  }
  const std::string manifest = buildManifest(entries, hashes);
  const std::string hex = sha256Hex(manifest);
  Status written = writeNewFile(tmp + "/manifest", manifest, 0444);
  if (!written.isOk()) {
    return fail(written);
  }

  ImageContent content;
  content.digest = std::string(kDigestPrefix) + hex;
  for (const TreeEntry& e : entries) {
    content.fileCount++;
    if (e.type == EntryType::Regular) {
      content.sizeBytes += e.size;
    }
  }

  TIDE_CRASH_POINT("image.import.copied");
  // Make the copy durable before it becomes visible under its digest.
  int rootFd = open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootFd >= 0) {
    syncfs(rootFd);
    close(rootFd);
  }
  const std::string final = root_ + "/" + hex;
  if (rename(tmp.c_str(), final.c_str()) != 0) {
    int err = errno;
    if ((err == ENOTEMPTY || err == EEXIST) && contains(content.digest)) {
      removeTree(tmp)
          .ignoreError(); // the same content is already stored: reuse it; tmp/ is swept at start
      return content;
    }
    return fail(internalError("cannot move " + tmp + " to " + final + ": " + errnoText(err)));
  }
  TIDE_CRASH_POINT("image.import.stored");
  return content;
}

Result<ImageContent> ImageStore::importDirectoryAs(const std::string& dir, uid_t uid, gid_t gid) {
  if (geteuid() != 0 || uid == 0) {
    return importDirectory(dir);
  }
  std::error_code ec;
  std::filesystem::create_directories(root_, ec);
  std::string tmpl = root_ + "/.tmp-stage-XXXXXX"; // 0700, root's: the child gets in by chdir
  if (mkdtemp(tmpl.data()) == nullptr) {
    return internalError("cannot create a folder in " + root_ + ": " + errnoText(errno));
  }
  const std::string stage = tmpl;
  const std::string inside = stage + "/copy";
  auto done = [&](Result<ImageContent> r) {
    removeTree(stage).ignoreError(); // swept at the next start otherwise (.tmp-)
    return r;
  };
  if (mkdir(inside.c_str(), 0700) != 0 || chown(inside.c_str(), uid, gid) != 0) {
    return done(internalError("cannot prepare " + inside + ": " + errnoText(errno)));
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return done(internalError("cannot make a pipe: " + errnoText(errno)));
  }
  const pid_t parent = getpid();
  pid_t child = fork();
  if (child < 0) {
    int err = errno;
    close(fds[0]);
    close(fds[1]);
    return done(internalError("cannot fork: " + errnoText(err)));
  }
  if (child == 0) {
    // glibc makes malloc usable after fork; the child only lists and copies files.
    close(fds[0]);
    Status s = Status::ok();
    if (chdir(inside.c_str()) != 0 || setgroups(0, nullptr) != 0 || setgid(gid) != 0 ||
        setuid(uid) != 0) {
      s = internalError("cannot switch to uid " + std::to_string(uid) + ": " + errnoText(errno));
    } else if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) {
      // It ends with the server (asked for after setuid, which clears the request): a killed
      // server's copy must not go on into a folder that the next server sweeps at its start.
      _exit(1);
    } else {
      struct stat st;
      if (stat(dir.c_str(), &st) != 0) {
        s = Status("InvalidParameterValue",
                   "uid " + std::to_string(uid) + " cannot reach " + dir + ": " + errnoText(errno));
      } else if (!S_ISDIR(st.st_mode)) {
        s = Status("InvalidParameterValue", dir + " is not a directory");
      } else {
        Result<std::vector<TreeEntry>> entries = listTree(dir);
        s = entries ? copyTree(dir, *entries, "rootfs", 0755, /*tryReflink=*/true, nullptr)
                    : entries.status();
      }
    }
    std::string report = s.isOk() ? "" : s.code() + "\n" + s.message();
    size_t off = 0;
    while (off < report.size()) {
      ssize_t n = write(fds[1], report.data() + off, report.size() - off);
      if (n <= 0) {
        break;
      }
      off += size_t(n);
    }
    _exit(s.isOk() ? 0 : 1);
  }
  close(fds[1]);
  TIDE_CRASH_POINT("image.import.forked");
  std::string report;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      report.append(buf, size_t(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!report.empty()) {
    size_t nl = report.find('\n');
    std::string code = report.substr(0, nl);
    std::string message = nl == std::string::npos ? "" : report.substr(nl + 1);
    if (code == "InternalError") {
      // Reading failed for lack of rights, mostly: say with whose rights it was read.
      return done(Status("InvalidParameterValue",
                         "reading " + dir + " as uid " + std::to_string(uid) + ": " + message));
    }
    return done(Status(code, message));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return done(internalError("the copy of " + dir + " as uid " + std::to_string(uid) +
                              " ended without a report"));
  }
  return done(importDirectory(inside + "/rootfs"));
}

std::string ImageStore::rootfsPath(const std::string& digest) const {
  std::string hex = hexOf(digest);
  return hex.empty() ? std::string() : root_ + "/" + hex + "/rootfs";
}

bool ImageStore::contains(const std::string& digest) const {
  std::string path = rootfsPath(digest);
  struct stat st;
  return !path.empty() && stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status ImageStore::remove(const std::string& digest) {
  std::string hex = hexOf(digest);
  if (hex.empty()) {
    return Status("InvalidParameterValue", "not an image digest: " + digest);
  }
  return removeTree(root_ + "/" + hex);
}

std::vector<std::string> ImageStore::list() const {
  std::vector<std::string> out;
  DIR* d = opendir(root_.c_str());
  if (d == nullptr) {
    return out;
  }
  while (dirent* de = readdir(d)) {
    if (isHex64(de->d_name)) {
      out.push_back(std::string(kDigestPrefix) + de->d_name);
    }
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

void ImageStore::removeIncompleteImports() {
  DIR* d = opendir(root_.c_str());
  if (d == nullptr) {
    return;
  }
  std::vector<std::string> leftovers;
  while (dirent* de = readdir(d)) {
    if (strncmp(de->d_name, ".tmp-", 5) == 0) {
      leftovers.push_back(root_ + "/" + de->d_name);
    }
  }
  closedir(d);
  for (const std::string& path : leftovers) {
    removeTree(path).ignoreError(); // best effort: tried again at the next start
  }
}

} // namespace tide::runtime
