// The CLI given arguments and stack files that are not UTF-8: one clear line and exit status 2
// (usage) or 1 (the file), never an abort (it was SIGABRT from an uncaught JSON type_error).
#include "cli/cli.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace tide::cli {
namespace {

namespace fs = std::filesystem;

int run(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  return cliMain(static_cast<int>(args.size()), argv.data());
}

TEST(CliHostileInput, ArgumentThatIsNotUtf8IsAUsageError) {
  // An endpoint nothing listens on: the check comes before any request.
  EXPECT_EXIT(
      std::exit(run({"tide", "--endpoint", "http://127.0.0.1:1", "stack", "describe", "caf\xe9"})),
      ::testing::ExitedWithCode(2),
      "tide: UsageError: argument 5 \\('caf\\\\xe9'\\) is not valid UTF-8");
  EXPECT_EXIT(std::exit(run({"tide", "up", "\xff.yaml"})), ::testing::ExitedWithCode(2),
              "not valid UTF-8");
}

TEST(CliHostileInput, StackFileThatIsNotUtf8IsRefusedWithWhere) {
  fs::path file =
      fs::temp_directory_path() / ("tide-cli-test-" + std::to_string(::getpid()) + "-latin1.yaml");
  {
    std::ofstream out(file, std::ios::binary);
    out << "Resources:\n  LB:\n    Type: AWS::ElasticLoadBalancingV2::LoadBalancer\n"
           "    Metadata: {Note: caf\xe9}\n";
  }
  std::string f = file.string();
  EXPECT_EXIT(std::exit(run({"tide", "--endpoint", "http://127.0.0.1:1", "up", f})),
              ::testing::ExitedWithCode(1),
              "tide: ValidationError: the stack file '.*' is not valid UTF-8 \\(line 4, "
              "column 25, byte 93\\)");
  fs::remove(file);
}

} // namespace
} // namespace tide::cli
