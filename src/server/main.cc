// The `tide` command: `tide server ...` runs the control plane; every other command is a client
// of its API (src/cli).
#include "cli/cli.h"
#include "server/server.h"

#include <cstring>

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "server") == 0) {
    return tide::server::serverMain(argc - 1, argv + 1);
  }
  return tide::cli::cliMain(argc, argv);
}
