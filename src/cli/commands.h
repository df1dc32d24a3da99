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
// `tide asg` (asg_commands.cc).
void addAsgCommands(CLI::App& app, CommandContext& ctx);
// `tide asg refresh` and the other instance refresh commands (asg_refresh_commands.cc).
void addAsgRefreshCommands(CLI::App& asg, CommandContext& ctx);
// `tide load` (load_commands.cc).
void addLoadCommands(CLI::App& app, CommandContext& ctx);
// `tide up`, `tide down`, `tide stack` (stack_commands.cc).
void addStackCommands(CLI::App& app, CommandContext& ctx);
// `tide console` (console_command.cc): the console's URL for the server at `endpoint` (read
// when the command runs, after parsing).
void addConsoleCommand(CLI::App& app, const std::string& endpoint);
// `tide events` (event_commands.cc).
void addEventCommands(CLI::App& app, CommandContext& ctx);
// `tide cert` (cert_commands.cc).
void addCertCommands(CLI::App& app, CommandContext& ctx);

} // namespace tide::cli
