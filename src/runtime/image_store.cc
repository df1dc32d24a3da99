#include "runtime/image_store.h"

#include "runtime/file_tree.h"
#include "runtime/sha256.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
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
  return content;
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
