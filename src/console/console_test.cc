#include "console/console.h"

#include "api/auth.h"
#include "console/assets.h"
#include "console/load_runner.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace tide::console {
namespace {

TEST(ConsoleRoutes, TheConsoleOwnsItsPathsOnly) {
  EXPECT_TRUE(Console::handles("/console"));
  EXPECT_TRUE(Console::handles("/console?token=ab"));
  EXPECT_TRUE(Console::handles("/console/"));
  EXPECT_TRUE(Console::handles("/console/api/state"));
  EXPECT_FALSE(Console::handles("/"));
  EXPECT_FALSE(Console::handles("/consoles"));
  EXPECT_FALSE(Console::handles("/metrics"));
  EXPECT_FALSE(Console::handles("/events?replay=200"));
}

TEST(ConsoleAssets, ThePageAndChartJsAreEmbedded) {
  for (const char* f : {"index.html", "console.js", "console.css", "chart.min.js"}) {
    const EmbeddedFile* file = findEmbeddedFile(f);
    ASSERT_NE(file, nullptr) << f;
    EXPECT_FALSE(file->body.empty()) << f;
  }
  EXPECT_EQ(findEmbeddedFile("../state.db"), nullptr);
  EXPECT_NE(findEmbeddedFile("chart.min.js")->body.find("Chart"), std::string_view::npos);
  EXPECT_EQ(contentTypeOf("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(contentTypeOf("console.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(contentTypeOf("x.bin"), "application/octet-stream");
}

TEST(ConsoleAuth, ActionsSeeOnlyHeaderCredentials) {
  api::HttpRequest r;
  r.method = "POST";
  r.target = "/console/api/call?token=abc";
  r.headers = {{"cookie", "tide_token=abc"}, {"content-type", "application/json"}};
  api::HttpRequest stripped = withHeaderCredentialsOnly(r);
  EXPECT_EQ(stripped.target, "/console/api/call");
  EXPECT_EQ(stripped.header("cookie"), nullptr);
  EXPECT_EQ(stripped.header("authorization"), nullptr);
  ASSERT_NE(stripped.header("content-type"), nullptr);

  r.headers.push_back({"x-tide-token", "abc"});
  stripped = withHeaderCredentialsOnly(r);
  ASSERT_NE(stripped.header("authorization"), nullptr);
  EXPECT_EQ(*stripped.header("authorization"), "Bearer abc");

  api::AuthConfig config;
  config.credentials = {"AKIDEXAMPLE", "secret"};
  std::string token = api::viewerToken(config.credentials);
  api::HttpRequest cookieOnly = r;
  cookieOnly.headers = {{"cookie", "tide_token=" + token}};
  EXPECT_TRUE(api::authorizeViewer(&config, cookieOnly).isOk());
  EXPECT_FALSE(api::authorizeViewer(&config, withHeaderCredentialsOnly(cookieOnly)).isOk());
  api::HttpRequest header = r;
  header.headers = {{"x-tide-token", token}};
  EXPECT_TRUE(api::authorizeViewer(&config, withHeaderCredentialsOnly(header)).isOk());
}

TEST(LoadRunner, ChecksTheProfileRunsOneChildAndReportsHowItEnded) {
  std::string log = ::testing::TempDir() + "/console-load-test.log";
  // /bin/echo stands in for tide: it prints its arguments (`load URL --profile P`) and exits.
  LoadRunner runner("/bin/echo", log);
  EXPECT_FALSE(runner.state()["Running"].get<bool>());
  EXPECT_TRUE(runner.stop().isOk()); // none runs: nothing to do

  Status bad = runner.start("http://127.0.0.1:1/", "steady:fast:1s", "lb", 1000);
  EXPECT_EQ(bad.code(), "ValidationError") << bad.toString();
  EXPECT_FALSE(runner.state().contains("Profile"));

  ASSERT_TRUE(runner.start("http://127.0.0.1:1/", "steady:5:1s", "lb", 1000).isOk());
  nlohmann::json s;
  for (int i = 0; i < 500; ++i) { // bounded: echo ends at once
    s = runner.state();
    if (!s["Running"].get<bool>()) {
      break;
    }
    usleep(10'000);
  }
  EXPECT_FALSE(s["Running"].get<bool>());
  EXPECT_EQ(s["Exit"], "exited 0");
  EXPECT_EQ(s["Profile"], "steady:5:1s");
  EXPECT_EQ(s["Target"], "lb");
  EXPECT_EQ(s["LastLine"], "load http://127.0.0.1:1/ --profile steady:5:1s");
}

} // namespace
} // namespace tide::console
