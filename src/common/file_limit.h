// The process's limit on open files, raised at start by the programs that hold many sockets
// (`tide server`, `tide balance`): the soft RLIMIT_NOFILE is often 1024, far below what a load
// balancer with thousands of client connections needs.
#pragma once

#include <cstdint>

namespace tide {

// Raises the soft RLIMIT_NOFILE to the hard limit, logging (Info) when it changed and (Warn)
// when even the hard limit is below `wanted`. Returns the soft limit in force afterwards.
uint64_t raiseOpenFileLimit(uint64_t wanted = 65536);

} // namespace tide
