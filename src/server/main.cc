// The `tide` command: `tide server ...` runs the control plane, `tide balance ...` the load
// balancer alone over fixed targets; every other command is a client of the API (src/cli).
#include "balancer/balance_main.h"
#include "cli/cli.h"
#include "common/file_limit.h"
#include "common/log.h"
#include "server/serve_static.h"
#include "server/server.h"

#include <cstring>
#include <string>

namespace {

// The server and the balancer hold a descriptor per connection: like HAProxy, they take all
// the open files the hard limit allows before any thread starts.
void raiseOpenFileLimitOrWarn(const char* command) {
  tide::Result<uint64_t> r = tide::raiseOpenFileLimit();
  if (!r) {
    tide::logWarn(std::string("tide ") + command + ": " + r.status().message() +
                  "; connections beyond the current limit wait in the listen backlog");
  }
}

} // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "server") == 0) {
    raiseOpenFileLimitOrWarn("server");
    return tide::server::serverMain(argc - 1, argv + 1);
  }
  if (argc >= 2 && std::strcmp(argv[1], "balance") == 0) {
    raiseOpenFileLimitOrWarn("balance");
    return tide::balancer::balanceMain(argc - 1, argv + 1);
  }
  if (argc >= 2 && std::strcmp(argv[1], "serve-static") == 0) {
    // The web server of the built-in base image (docs/images.md), run in its instances.
    return tide::server::serveStaticMain(argc - 1, argv + 1);
  }
  return tide::cli::cliMain(argc, argv);
}
