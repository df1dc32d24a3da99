// The process's limit on open files.
#pragma once

#include "common/status.h"

#include <cstdint>

namespace tide {

// Raises the soft RLIMIT_NOFILE to the hard limit, as HAProxy does at start: every client
// connection and every connection to a target holds a descriptor, and the usual soft limit of
// 1024 would cap a balancer at a few hundred connections. A hard limit of "unlimited" means
// fs.nr_open, the most the kernel allows. Returns the soft limit now in force, or an error
// saying why it could not be raised (the limit is then unchanged). Call it before starting
// threads; it changes the whole process.
Result<uint64_t> raiseOpenFileLimit();

} // namespace tide
