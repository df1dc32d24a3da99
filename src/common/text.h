// Small text helpers shared by several modules.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tide {

// Standard base64 (RFC 4648, with padding), as EC2 carries UserData.
std::string base64Encode(std::string_view data);
// nullopt when s is not valid padded base64.
std::optional<std::string> base64Decode(std::string_view s);

// Lowercase hex of bytes.
std::string hexEncode(std::string_view bytes);

std::vector<std::string> splitString(std::string_view s, char sep);
std::string_view trim(std::string_view s);

// Reads a whole file; nullopt if it cannot be read.
std::optional<std::string> readFile(const std::string& path);

} // namespace tide
