// The `tide` command: `tide server ...` runs the control plane, `tide balance ...` the load
// balancer alone over fixed targets; every other command is a client of the API (src/cli).
#include "balancer/balance_main.h"
#include "cli/cli.h"
#include "server/server.h"

#include <cstring>

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "server") == 0) {
    return tide::server::serverMain(argc - 1, argv + 1);
  }
  if (argc >= 2 && std::strcmp(argv[1], "balance") == 0) {
    return tide::balancer::balanceMain(argc - 1, argv + 1);
  }
  return tide::cli::cliMain(argc, argv);
}
