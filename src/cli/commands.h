// Command groups of the `tide` CLI, each in a file of its own, added to the app by cliMain.
#pragma once

#include "cli/support.h"

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>

namespace tide::cli {

// What a command group needs: where to put its outcome, and an API client (made on demand, so
// that --endpoint is read after parsing).
struct CommandContext {
  std::optional<Outcome>& outcome;
  std::function<ApiClient()> client;
};

// `tide lb`, `tide listener`, `tide tg` (elb_commands.cc).
void addElbCommands(CLI::App& app, CommandContext& ctx);

} // namespace tide::cli
