// The access key a tide server accepts signed requests with, kept in <data dir>/credentials
// (mode 0600, in the format of AWS's own shared credentials file, so AWS_SHARED_CREDENTIALS_FILE
// can point at it). `tide server` makes one on its first start; `tide credentials` prints it as
// environment variables; tide's CLI signs with it.
#pragma once

#include "common/status.h"

#include <string>

namespace tide::api {

struct Credentials {
  std::string accessKeyId;     // "AKIA" + 16 upper-case letters and digits, as AWS's look
  std::string secretAccessKey; // 40 characters of [A-Za-z0-9+/]
};

// <dataDir>/credentials.
std::string credentialsPath(const std::string& dataDir);

// A new random key pair (OpenSSL's RAND_bytes).
Credentials newCredentials();

// n random characters of an access key id (upper-case letters and the digits 2-7).
std::string randomKeyCharacters(size_t n);

// Reads the credentials file: its [default] section's aws_access_key_id and
// aws_secret_access_key. NotFound when the file is absent; ValidationError when it is malformed
// or readable by others than its owner (say which, and how to fix it).
Result<Credentials> readCredentials(const std::string& path);

// Reads the file, or writes a new one (mode 0600, atomically: a temporary file renamed) when
// there is none.
Result<Credentials> loadOrCreateCredentials(const std::string& dataDir);

} // namespace tide::api
