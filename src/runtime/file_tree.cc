#include "runtime/file_tree.h"

#include "runtime/sha256.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace tide::runtime {

namespace {

Status ioError(const std::string& what, const std::string& path, int err) {
  return internalError(what + " " + path + ": " + errnoText(err));
}

Status walk(const std::string& root, const std::string& rel, std::vector<TreeEntry>& out) {
  std::string dirPath = rel.empty() ? root : root + "/" + rel;
  DIR* d = opendir(dirPath.c_str());
  if (d == nullptr) {
    return ioError("cannot read directory", dirPath, errno);
  }
  std::vector<std::string> names;
  errno = 0;
  while (dirent* de = readdir(d)) {
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
      names.emplace_back(de->d_name);
    }
    errno = 0;
  }
  int err = errno;
  closedir(d);
  if (err != 0) {
    return ioError("cannot read directory", dirPath, err);
  }
  for (const std::string& name : names) {
    TreeEntry e;
    e.relPath = rel.empty() ? name : rel + "/" + name;
    std::string path = root + "/" + e.relPath;
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) {
      return ioError("cannot stat", path, errno);
    }
    e.mode = st.st_mode & 07777;
    if (S_ISDIR(st.st_mode)) {
      e.type = EntryType::Directory;
      out.push_back(e);
      TIDE_RETURN_IF_ERROR(walk(root, e.relPath, out));
    } else if (S_ISREG(st.st_mode)) {
      e.type = EntryType::Regular;
      e.size = st.st_size;
      out.push_back(std::move(e));
    } else if (S_ISLNK(st.st_mode)) {
      e.type = EntryType::Symlink;
      std::string target(size_t(st.st_size > 0 ? st.st_size : 255) + 1, '\0');
      while (true) {
        ssize_t n = readlink(path.c_str(), target.data(), target.size());
        if (n < 0) {
          return ioError("cannot read symlink", path, errno);
        }
        if (size_t(n) < target.size()) {
          target.resize(size_t(n));
          break;
        }
        target.resize(target.size() * 2); // the link changed while we looked
      }
      e.linkTarget = std::move(target);
      out.push_back(std::move(e));
    } else {
      const char* kind = S_ISCHR(st.st_mode)    ? "a character device"
                         : S_ISBLK(st.st_mode)  ? "a block device"
                         : S_ISFIFO(st.st_mode) ? "a fifo"
                         : S_ISSOCK(st.st_mode) ? "a socket"
                                                : "not a regular file, directory or symlink";
      return Status("InvalidParameterValue",
                    path + " is " + kind +
                        ": images hold only regular files, directories and symlinks");
    }
  }
  return Status::ok();
}

// Closes an fd when leaving scope.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) {
      close(fd);
    }
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

Status hashFile(int fd, const std::string& path, Sha256& hash) {
  if (lseek(fd, 0, SEEK_SET) < 0) {
    return ioError("cannot seek", path, errno);
  }
  std::string buf(1 << 16, '\0');
  while (true) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return ioError("cannot read", path, errno);
    }
    if (n == 0) {
      return Status::ok();
    }
    hash.update(std::string_view(buf.data(), size_t(n)));
  }
}

bool allZero(const char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != 0) {
      return false;
    }
  }
  return true;
}

// Copies the regular file open as in to out (empty) byte for byte but keeps holes: only the
// data regions (SEEK_DATA / SEEK_HOLE) are read, and blocks of zeros in them are skipped in the
// copy too, so a sparse file stays sparse. The file's length is set at the end. hash, when
// given, is fed the whole contents (holes as the zeros they read as), so digests do not depend
// on how a file is stored. A file system without SEEK_DATA is read as one data region.
Status copySparse(int in, const std::string& src, int out, const std::string& dst, Sha256* hash) {
  struct stat st;
  if (fstat(in, &st) != 0) {
    return ioError("cannot stat", src, errno);
  }
  const off_t size = st.st_size;
  constexpr size_t kChunk = 1 << 16;
  static const std::string kZeros(kChunk, '\0');
  std::string buf(kChunk, '\0');
  auto feedZeros = [&](off_t n) {
    for (; hash != nullptr && n > 0; n -= off_t(std::min<off_t>(n, kChunk))) {
      hash->update(std::string_view(kZeros.data(), size_t(std::min<off_t>(n, kChunk))));
    }
  };
  off_t pos = 0;
  while (pos < size) {
    off_t data = lseek(in, pos, SEEK_DATA);
    off_t hole = size;
    if (data < 0 && errno == ENXIO) {
      data = size; // a hole up to the end
    } else if (data < 0 && (errno == EINVAL || errno == EOPNOTSUPP)) {
      data = pos; // no SEEK_DATA here: all of the rest is data
    } else if (data < 0) {
      return ioError("cannot seek in", src, errno);
    } else {
      hole = lseek(in, data, SEEK_HOLE);
      if (hole < 0) {
        return ioError("cannot seek in", src, errno);
      }
    }
    data = std::min(data, size);
    hole = std::min(hole, size);
    feedZeros(data - pos);
    pos = data;
    while (pos < hole) {
      ssize_t n = pread(in, buf.data(), size_t(std::min<off_t>(hole - pos, kChunk)), pos);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        return ioError("cannot read", src, errno);
      }
      if (n == 0) {
        break; // the file shrank while it was copied: the rest reads as zeros
      }
      if (hash != nullptr) {
        hash->update(std::string_view(buf.data(), size_t(n)));
      }
      if (!allZero(buf.data(), size_t(n))) {
        for (ssize_t done = 0; done < n;) {
          ssize_t w = pwrite(out, buf.data() + done, size_t(n - done), pos + done);
          if (w < 0 && errno == EINTR) {
            continue;
          }
          if (w < 0) {
            return ioError("cannot write", dst, errno);
          }
          done += w;
        }
      }
      pos += n;
    }
    if (pos < hole) {
      feedZeros(hole - pos);
      pos = hole;
    }
  }
  if (ftruncate(out, pos) != 0) {
    return ioError("cannot write", dst, errno);
  }
  return Status::ok();
}

} // namespace

std::string errnoText(int err) {
  return strerror(err);
}

Result<std::vector<TreeEntry>> listTree(const std::string& dir) {
  std::vector<TreeEntry> out;
  TIDE_RETURN_IF_ERROR(walk(dir, "", out));
  std::sort(out.begin(), out.end(),
            [](const TreeEntry& a, const TreeEntry& b) { return a.relPath < b.relPath; });
  return out;
}

Status copyRegularFile(const std::string& src, const std::string& dst, mode_t mode, bool tryReflink,
                       Sha256* hash) {
  Fd in(open(src.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (in.fd < 0) {
    return ioError("cannot open", src, errno);
  }
  Fd out(open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (out.fd < 0) {
    return ioError("cannot create", dst, errno);
  }
  bool cloned = tryReflink && ioctl(out.fd, FICLONE, in.fd) == 0;
  if (cloned) {
    if (hash != nullptr) {
      TIDE_RETURN_IF_ERROR(hashFile(in.fd, src, *hash));
    }
  } else {
    TIDE_RETURN_IF_ERROR(copySparse(in.fd, src, out.fd, dst, hash));
  }
  if (fchmod(out.fd, mode) != 0) {
    return ioError("cannot set mode of", dst, errno);
  }
  int fd = out.fd;
  out.fd = -1;
  if (close(fd) != 0) {
    return ioError("cannot write", dst, errno);
  }
  return Status::ok();
}

Status copyTree(const std::string& src, const std::vector<TreeEntry>& entries,
                const std::string& dst, mode_t rootMode, bool tryReflink,
                std::vector<std::string>* hashes, const std::function<bool()>& cancelled) {
  // Directories are made owner-writable first and given their own modes at the end, so that a
  // read-only directory can still be filled.
  if (mkdir(dst.c_str(), 0700) != 0) {
    return ioError("cannot create directory", dst, errno);
  }
  for (const TreeEntry& e : entries) {
    if (cancelled && cancelled()) {
      return Status("Cancelled", "the copy to " + dst + " was cancelled");
    }
    std::string from = src + "/" + e.relPath;
    std::string to = dst + "/" + e.relPath;
    switch (e.type) {
    case EntryType::Directory:
      if (mkdir(to.c_str(), 0700) != 0) {
        return ioError("cannot create directory", to, errno);
      }
      break;
    case EntryType::Symlink:
      if (symlink(e.linkTarget.c_str(), to.c_str()) != 0) {
        return ioError("cannot create symlink", to, errno);
      }
      break;
    case EntryType::Regular: {
      Sha256 hash;
      TIDE_RETURN_IF_ERROR(
          copyRegularFile(from, to, e.mode, tryReflink, hashes != nullptr ? &hash : nullptr));
      if (hashes != nullptr) {
        hashes->push_back(hash.finishHex());
      }
      break;
    }
    }
  }
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (it->type == EntryType::Directory) {
      std::string to = dst + "/" + it->relPath;
      if (chmod(to.c_str(), it->mode) != 0) {
        return ioError("cannot set mode of", to, errno);
      }
    }
  }
  if (chmod(dst.c_str(), rootMode) != 0) {
    return ioError("cannot set mode of", dst, errno);
  }
  return Status::ok();
}

Status removeTree(const std::string& path) {
  std::error_code ec;
  // remove_all does not follow symlinks. Read-only directories are no obstacle for root; for
  // other users, make directories writable first.
  if (geteuid() != 0 && std::filesystem::is_directory(std::filesystem::symlink_status(path, ec))) {
    chmod(path.c_str(), 0700);
    for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) {
        chmod(it->path().c_str(), 0700);
      }
    }
    ec.clear();
  }
  std::filesystem::remove_all(path, ec);
  if (ec) {
    return internalError("cannot remove " + path + ": " + ec.message());
  }
  return Status::ok();
}

Status writeNewFile(const std::string& path, const std::string& data, mode_t mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return internalError("cannot create " + path + ": " + errnoText(errno));
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      break;
    }
    done += size_t(n);
  }
  int err = done < data.size() ? errno : 0;
  if (err == 0 && fchmod(fd, mode) != 0) {
    err = errno;
  }
  if (close(fd) != 0 && err == 0) {
    err = errno;
  }
  if (err != 0) {
    unlink(path.c_str());
    return internalError("cannot write " + path + ": " + errnoText(err));
  }
  return Status::ok();
}

} // namespace tide::runtime
