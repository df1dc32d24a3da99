// `tide console [--open]`: prints the URL of the live console (docs/console.md) with the viewer
// token of the server's key, and with --open hands it to xdg-open when there is one.
#include "api/auth.h"
#include "api/credentials.h"
#include "cli/commands.h"
#include "common/data_dir.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace tide::cli {

namespace {

// Whether a program is on PATH.
bool onPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  size_t from = 0;
  while (from <= dirs.size()) {
    size_t colon = dirs.find(':', from);
    std::string dir = dirs.substr(from, colon == std::string::npos ? colon : colon - from);
    if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) {
      return true;
    }
    if (colon == std::string::npos) {
      break;
    }
    from = colon + 1;
  }
  return false;
}

// Runs `xdg-open url` and waits for it (it hands the URL to the desktop's browser and returns).
void openInBrowser(const std::string& url) {
  if (!onPath("xdg-open")) {
    std::fprintf(stderr, "tide: no xdg-open here: open the URL above in a browser\n");
    return;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execlp("xdg-open", "xdg-open", url.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  if (pid > 0) {
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
}

} // namespace

void addConsoleCommand(CLI::App& app, const std::string& endpoint) {
  auto* console = app.add_subcommand(
      "console", "print the URL of the live console in the browser (with --open, open it)");
  static std::string dataDir = defaultDataDir();
  static bool open = false;
  console->add_option("--data-dir", dataDir, "the server's data directory (or TIDE_DATA_DIR)")
      ->capture_default_str();
  console->add_flag("--open", open, "open it with xdg-open");
  console->callback([&endpoint] {
    std::string base = endpoint;
    while (!base.empty() && base.back() == '/') {
      base.pop_back();
    }
    std::string url = base + "/console/";
    // The token of the server's key, read as the other commands read it: the data directory's
    // credentials file, else AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (`eval "$(tide
    // credentials)"` elsewhere). A server run with --auth none has no key and needs no token.
    Result<api::Credentials> key = api::readCredentials(api::credentialsPath(dataDir));
    const char* id = std::getenv("AWS_ACCESS_KEY_ID");
    const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
    if (!key && key.status().code() == "NotFound" && id != nullptr && *id != '\0' &&
        secret != nullptr && *secret != '\0') {
      key = api::Credentials{id, secret};
    }
    if (key) {
      url += "?token=" + api::viewerToken(*key);
    } else if (key.status().code() != "NotFound") {
      std::fprintf(stderr, "tide: %s\n", key.status().message().c_str());
      std::exit(1);
    }
    std::printf("%s\n", url.c_str());
    std::fflush(stdout);
    if (open) {
      openInBrowser(url);
    }
  });
}

} // namespace tide::cli
