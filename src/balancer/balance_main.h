// `tide balance`: runs the engine standalone over fixed targets (see balance_main.cc).
#pragma once

namespace tide::balancer {

// argv[0] is "balance" (or the program); returns the process exit code: 0 after SIGTERM/SIGINT,
// 1 when it cannot listen, 2 on a usage error.
int balanceMain(int argc, char** argv);

} // namespace tide::balancer
