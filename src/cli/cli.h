// The `tide` command line: friendly commands over the API's actions. With `--output json` each
// command prints the AWS response shape of the action behind it, so scripts can rely on it.
// Errors print one line ("tide: Code: message") on stderr and exit non-zero.
#pragma once

namespace tide::cli {

int cliMain(int argc, char** argv);

} // namespace tide::cli
