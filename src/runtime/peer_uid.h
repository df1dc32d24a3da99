// Who is on the other end of a loopback TCP connection: the uid that owns the client's socket,
// from the kernel's socket tables (/proc/net/tcp and tcp6, the "uid" column of the entry whose
// local address is the connection's peer). For reading image sources with the caller's rights.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace tide::runtime {

// The uid owning the socket whose local address is peer ("127.0.0.1:54321" or
// "[::1]:54321"), in the given table text (the format of /proc/net/tcp or tcp6). nullopt when
// no entry or several entries with different uids match, or peer cannot be parsed.
std::optional<uid_t> socketOwnerIn(std::string_view table, const std::string& peer);

// The same, read from this machine's /proc/net/tcp and /proc/net/tcp6. Only meaningful for a
// peer on this machine (loopback); nullopt otherwise.
std::optional<uid_t> loopbackPeerUid(const std::string& peer);

} // namespace tide::runtime
