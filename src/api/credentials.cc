#include "api/credentials.h"

#include "common/text.h"

#include <openssl/rand.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace tide::api {

namespace {

// `n` characters drawn uniformly from `alphabet` (rejection sampling keeps it uniform).
std::string randomString(std::string_view alphabet, size_t n) {
  std::string out;
  const unsigned limit = 256 - 256 % alphabet.size();
  while (out.size() < n) {
    unsigned char buf[64];
    if (RAND_bytes(buf, sizeof buf) != 1) {
      std::fprintf(stderr, "tide: OpenSSL has no random bytes to make credentials with\n");
      std::abort(); // a key that is not random must never be made
    }
    for (unsigned char b : buf) {
      if (b < limit && out.size() < n) {
        out += alphabet[b % alphabet.size()];
      }
    }
  }
  return out;
}

bool isKeyId(std::string_view s) {
  if (s.size() < 16 || s.size() > 128) {
    return false;
  }
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

} // namespace

std::string credentialsPath(const std::string& dataDir) {
  return dataDir + "/credentials";
}

std::string randomKeyCharacters(size_t n) {
  return randomString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", n);
}

Credentials newCredentials() {
  return Credentials{
      "AKIA" + randomKeyCharacters(16),
      randomString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40)};
}

Result<Credentials> readCredentials(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return Status("NotFound", "no credentials file at " + path);
    }
    return validationError("cannot read " + path + ": " + std::strerror(errno));
  }
  if ((st.st_mode & 077) != 0) {
    return validationError(path + " is readable by others than its owner; run chmod 600 " + path);
  }
  std::ifstream in(path);
  if (!in) {
    return validationError("cannot read " + path + ": " + std::strerror(errno));
  }
  Credentials c;
  std::string line, section;
  int lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    std::string_view l = trim(line);
    if (l.empty() || l[0] == '#' || l[0] == ';') {
      continue;
    }
    if (l.front() == '[') {
      if (l.back() != ']') {
        return validationError(path + ":" + std::to_string(lineNo) + ": a section is [NAME]");
      }
      section = std::string(trim(l.substr(1, l.size() - 2)));
      continue;
    }
    size_t eq = l.find('=');
    if (eq == std::string_view::npos) {
      return validationError(path + ":" + std::to_string(lineNo) + ": expected NAME = VALUE");
    }
    if (section != "default") {
      continue;
    }
    std::string_view name = trim(l.substr(0, eq));
    std::string_view value = trim(l.substr(eq + 1));
    if (name == "aws_access_key_id") {
      c.accessKeyId = value;
    } else if (name == "aws_secret_access_key") {
      c.secretAccessKey = value;
    }
  }
  if (!isKeyId(c.accessKeyId) || c.secretAccessKey.size() < 16) {
    return validationError(path + " has no valid [default] aws_access_key_id and "
                                  "aws_secret_access_key; delete it and restart tide server to "
                                  "make new ones");
  }
  return c;
}

Result<Credentials> loadOrCreateCredentials(const std::string& dataDir) {
  std::string path = credentialsPath(dataDir);
  Result<Credentials> existing = readCredentials(path);
  if (existing || existing.status().code() != "NotFound") {
    return existing;
  }
  Credentials c = newCredentials();
  std::string text = "# tide's access key for this data directory (tide credentials prints it)\n"
                     "[default]\naws_access_key_id = " +
                     c.accessKeyId + "\naws_secret_access_key = " + c.secretAccessKey + "\n";
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return internalError("cannot write " + tmp + ": " + std::strerror(errno));
  }
  ::fchmod(fd, 0600); // whatever the umask
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return internalError("cannot write " + path + ": " + why);
  }
  return c;
}

} // namespace tide::api
