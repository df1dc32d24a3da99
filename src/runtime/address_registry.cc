#include "runtime/address_registry.h"

#include "common/text.h"
#include "runtime/file_tree.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <map>

namespace tide::runtime {

namespace {

constexpr const char* kFileName = "address-ranges";

std::optional<int64_t> toInt(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

// Lines that do not parse (a torn write) are dropped: their owners claim again.
std::vector<AddressClaim> parseClaims(const std::string& text) {
  std::map<int, AddressClaim> byBlock;
  for (const std::string& line : splitString(text, '\n')) {
    size_t a = line.find(' ');
    size_t b = a == std::string::npos ? a : line.find(' ', a + 1);
    if (b == std::string::npos || b + 1 >= line.size()) {
      continue;
    }
    auto block = toInt(std::string_view(line).substr(0, a));
    auto pid = toInt(std::string_view(line).substr(a + 1, b - a - 1));
    if (!block || !pid || *block < 0 || *block >= kAddressBlocks || *pid <= 0) {
      continue;
    }
    byBlock[int(*block)] = AddressClaim{int(*block), int(*pid), line.substr(b + 1)};
  }
  std::vector<AddressClaim> out;
  for (auto& [block, claim] : byBlock) {
    out.push_back(std::move(claim));
  }
  return out;
}

std::string renderClaims(const std::vector<AddressClaim>& claims) {
  std::string out;
  for (const AddressClaim& c : claims) {
    out += std::to_string(c.block) + " " + std::to_string(c.pid) + " " + c.dataDir + "\n";
  }
  return out;
}

// The registry file, open and exclusively locked for as long as this object lives.
class LockedRegistry {
public:
  ~LockedRegistry() {
    if (fd_ >= 0) {
      ::close(fd_); // releases the lock
    }
  }
  Status open(const std::string& path) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      return internalError("cannot open the address registry " + path + ": " + errnoText(errno));
    }
    int r;
    do {
      r = ::flock(fd_, LOCK_EX);
    } while (r != 0 && errno == EINTR);
    if (r != 0) {
      return internalError("cannot lock the address registry " + path + ": " + errnoText(errno));
    }
    path_ = path;
    return Status::ok();
  }
  Result<std::vector<AddressClaim>> read() {
    std::string text;
    char buf[4096];
    off_t at = 0;
    for (;;) {
      ssize_t n = ::pread(fd_, buf, sizeof buf, at);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        return internalError("cannot read the address registry " + path_ + ": " + errnoText(errno));
      }
      if (n == 0) {
        break;
      }
      text.append(buf, size_t(n));
      at += n;
    }
    return parseClaims(text);
  }
  Status write(const std::vector<AddressClaim>& claims) {
    std::string text = renderClaims(claims);
    if (::ftruncate(fd_, 0) != 0 ||
        ::pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
      return internalError("cannot write the address registry " + path_ + ": " + errnoText(errno));
    }
    return Status::ok();
  }

private:
  int fd_ = -1;
  std::string path_;
};

bool directoryExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool pidAlive(int pid) {
  return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

// Whether /proc/locks lists a flock on the file (by device and inode).
bool flockHeld(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return false;
  }
  auto text = readFile("/proc/locks");
  if (!text) {
    return false;
  }
  char want[64];
  snprintf(want, sizeof want, "%02x:%02x:%llu", major(st.st_dev), minor(st.st_dev),
           static_cast<unsigned long long>(st.st_ino));
  for (const std::string& line : splitString(*text, '\n')) {
    // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; waiters' lines have "->" after "1:".
    if (line.find(" FLOCK ") == std::string::npos || line.find("->") != std::string::npos) {
      continue;
    }
    for (const std::string& field : splitString(line, ' ')) {
      if (field == want) {
        return true;
      }
    }
  }
  return false;
}

enum class BlockUse {
  Free,  // no claim, or a claim of a server that is gone whose data directory is gone too
  Ours,  // claimed for the data directory asking
  Stale, // claimed by a server that is gone; its data directory is still there
  InUse, // claimed by a server that may still run
};

} // namespace

bool claimInUse(const AddressClaim& claim) {
  return pidAlive(claim.pid) || flockHeld(claim.dataDir + "/server.lock");
}

AddressRegistry::AddressRegistry(AddressRegistryOptions options) : options_(std::move(options)) {
  if (options_.pid == 0) {
    options_.pid = static_cast<int>(::getpid());
  }
  if (!options_.inUse) {
    options_.inUse = claimInUse;
  }
}

namespace {

struct Blocks {
  std::vector<BlockUse> use = std::vector<BlockUse>(kAddressBlocks, BlockUse::Free);
  std::vector<AddressClaim> claims; // what to write back (Free blocks have none)
};

Blocks classify(const std::vector<AddressClaim>& claims, const std::string& dataDir,
                const std::function<bool(const AddressClaim&)>& inUse) {
  Blocks b;
  for (const AddressClaim& c : claims) {
    BlockUse u;
    if (c.dataDir == dataDir) {
      u = BlockUse::Ours;
    } else if (inUse(c)) {
      u = BlockUse::InUse;
    } else if (directoryExists(c.dataDir)) {
      u = BlockUse::Stale;
    } else {
      continue; // released: nobody will come back for it
    }
    b.use[size_t(c.block)] = u;
    b.claims.push_back(c);
  }
  return b;
}

// The lowest Free block, else the lowest Stale one; -1 when every block is held.
int pickBlock(const Blocks& b) {
  for (BlockUse wanted : {BlockUse::Free, BlockUse::Stale}) {
    for (int i = 0; i < kAddressBlocks; ++i) {
      if (b.use[size_t(i)] == wanted) {
        return i;
      }
    }
  }
  return -1;
}

void take(Blocks& b, int block, int pid, const std::string& dataDir) {
  b.claims.erase(std::remove_if(b.claims.begin(), b.claims.end(),
                                [&](const AddressClaim& c) { return c.block == block; }),
                 b.claims.end());
  b.claims.push_back(AddressClaim{block, pid, dataDir});
  b.use[size_t(block)] = BlockUse::Ours;
  std::sort(b.claims.begin(), b.claims.end(),
            [](const AddressClaim& x, const AddressClaim& y) { return x.block < y.block; });
}

Status noBlockLeft(const std::string& space) {
  return Status("InsufficientFreeAddressesInSubnet",
                "every address block of " + space + " is claimed by a running tide server");
}

Status checkDataDir(const std::string& dataDir) {
  if (dataDir.empty() || dataDir.find('\n') != std::string::npos) {
    return Status("InvalidParameterValue",
                  "cannot claim addresses for the data directory \"" + dataDir + "\"");
  }
  return Status::ok();
}

} // namespace

Result<std::vector<int>> AddressRegistry::claim(const std::string& dataDir,
                                                const std::vector<int>& wanted) {
  TIDE_RETURN_IF_ERROR(checkDataDir(dataDir));
  LockedRegistry file;
  TIDE_RETURN_IF_ERROR(file.open(options_.path));
  TIDE_ASSIGN_OR_RETURN(auto read, file.read());
  Blocks b = classify(read, dataDir, options_.inUse);
  for (AddressClaim& c : b.claims) {
    if (c.dataDir == dataDir) {
      c.pid = options_.pid;
    }
  }
  for (int w : wanted) {
    if (w >= 0 && w < kAddressBlocks && b.use[size_t(w)] != BlockUse::InUse &&
        b.use[size_t(w)] != BlockUse::Ours) {
      take(b, w, options_.pid, dataDir);
    }
  }
  if (std::find(b.use.begin(), b.use.end(), BlockUse::Ours) == b.use.end()) {
    int block = pickBlock(b);
    if (block < 0) {
      return noBlockLeft(options_.space);
    }
    take(b, block, options_.pid, dataDir);
  }
  TIDE_RETURN_IF_ERROR(file.write(b.claims));
  std::vector<int> ours;
  for (int i = 0; i < kAddressBlocks; ++i) {
    if (b.use[size_t(i)] == BlockUse::Ours) {
      ours.push_back(i);
    }
  }
  return ours;
}

Result<int> AddressRegistry::claimAnother(const std::string& dataDir) {
  TIDE_RETURN_IF_ERROR(checkDataDir(dataDir));
  LockedRegistry file;
  TIDE_RETURN_IF_ERROR(file.open(options_.path));
  TIDE_ASSIGN_OR_RETURN(auto read, file.read());
  Blocks b = classify(read, dataDir, options_.inUse);
  int block = pickBlock(b);
  if (block < 0) {
    return noBlockLeft(options_.space);
  }
  take(b, block, options_.pid, dataDir);
  TIDE_RETURN_IF_ERROR(file.write(b.claims));
  return block;
}

Status AddressRegistry::release(const std::string& dataDir) {
  LockedRegistry file;
  TIDE_RETURN_IF_ERROR(file.open(options_.path));
  TIDE_ASSIGN_OR_RETURN(auto read, file.read());
  std::vector<AddressClaim> kept;
  for (AddressClaim& c : read) {
    if (c.dataDir != dataDir) {
      kept.push_back(std::move(c));
    }
  }
  return file.write(kept);
}

Result<std::vector<AddressClaim>> AddressRegistry::claims() {
  LockedRegistry file;
  TIDE_RETURN_IF_ERROR(file.open(options_.path));
  return file.read();
}

std::string defaultAddressRegistryPath() {
  auto usable = [](const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    return !ec && ::access(dir.c_str(), W_OK) == 0;
  };
  if (usable("/run/tide")) {
    return std::string("/run/tide/") + kFileName;
  }
  if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x != nullptr && x[0] == '/') {
    std::string dir = std::string(x) + "/tide";
    if (usable(dir)) {
      return dir + "/" + kFileName;
    }
  }
  return "/tmp/tide-" + std::to_string(::getuid()) + "/" + kFileName;
}

std::string loadBalancerRegistryPath(const std::string& instanceRegistry) {
  return instanceRegistry + ".lb";
}

} // namespace tide::runtime
