#include "balancer/rules.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

namespace tide::balancer {
namespace {

using Field = RuleCondition::Field;
using http1::parseRequestHead;
using http1::ParseStatus;

// A listener's rules with their snapshot storage kept alive.
struct Rules {
  std::vector<std::unique_ptr<Rule>> storage;
  std::vector<PreparedRule> prepared;
  uint32_t counter = 0;

  // Adds a rule that answers with fixed status `status` (used as the rule's identity).
  Rules& add(int priority, std::vector<RuleCondition> conditions, int status) {
    auto r = std::make_unique<Rule>();
    r->priority = priority;
    r->conditions = std::move(conditions);
    r->action.kind = Action::Kind::FixedResponse;
    r->action.fixedResponse.statusCode = status;
    auto p = prepareRule(*r, 4, counter);
    EXPECT_TRUE(p.isOk()) << p.status().message();
    prepared.push_back(std::move(*p));
    storage.push_back(std::move(r));
    return *this;
  }

  // The status of the matching rule, or 0 for the default.
  int match(const std::string& request, uint32_t client = 0x7f000001) {
    raw_ = request;
    ParseStatus st = parseRequestHead(raw_.data(), raw_.size(), 16384, head_);
    EXPECT_EQ(st, ParseStatus::Complete) << request;
    const PreparedAction* a = matchRules(prepared, head_, client);
    return a ? a->action->fixedResponse.statusCode : 0;
  }

  std::string raw_;
  MessageHead head_;
};

RuleCondition cond(Field f, std::vector<std::string> values) {
  RuleCondition c;
  c.field = f;
  c.values = std::move(values);
  return c;
}

RuleCondition header(std::string name, std::vector<std::string> values) {
  RuleCondition c = cond(Field::HttpHeader, std::move(values));
  c.headerName = std::move(name);
  return c;
}

RuleCondition query(std::vector<std::pair<std::string, std::string>> kv) {
  RuleCondition c;
  c.field = Field::QueryString;
  c.queryValues = std::move(kv);
  return c;
}

std::string get(const std::string& target, const std::string& host = "www.example.com",
                const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n" + extra + "\r\n";
}

TEST(WildcardTest, StarAndQuestionMark) {
  EXPECT_TRUE(wildcardMatch("/img/*", "/img/a/b.png", false));
  EXPECT_TRUE(wildcardMatch("/img/*", "/img/", false));
  EXPECT_FALSE(wildcardMatch("/img/*", "/img", false));
  EXPECT_TRUE(wildcardMatch("*.png", "/a.png", false));
  EXPECT_TRUE(wildcardMatch("/a?c", "/abc", false));
  EXPECT_FALSE(wildcardMatch("/a?c", "/ac", false));
  EXPECT_TRUE(wildcardMatch("*a*b*", "xxaxxbxx", false));
  EXPECT_FALSE(wildcardMatch("*a*b", "xxaxxbxxc", false));
  EXPECT_TRUE(wildcardMatch("*", "", false));
  EXPECT_FALSE(wildcardMatch("/API", "/api", false));
  EXPECT_TRUE(wildcardMatch("/api", "/API", true)); // folded: pattern lowered beforehand
}

TEST(WildcardTest, SplitPatternsAgreeWithTheReference) {
  const char* patterns[] = {"",      "*",    "**",   "a",      "?",     "a*",     "*a",
                            "a*b",   "*a*",  "a?c",  "*?",     "?*",    "a*b*c",  "*a*b*",
                            "ab*ab", "*aba", "a**b", "/img/*", "*.png", "/v?/s*", "??*??"};
  const char* texts[] = {"",           "a",          "b",     "ab",   "abc",    "aab",
                         "abab",       "aba",        "abcab", "acbc", "ababab", "/img/",
                         "/img/x.png", "/v2/status", "x.png", "abcd", "aXc",    "abba"};
  for (const char* p : patterns) {
    SplitPattern split = splitPattern(p);
    for (const char* t : texts) {
      EXPECT_EQ(splitMatch(split, t, false), wildcardMatch(p, t, false))
          << "pattern '" << p << "' text '" << t << "'";
    }
  }
  EXPECT_TRUE(splitMatch(splitPattern("*.example.com"), "API.Example.COM", true));
}

TEST(RulesTest, NoRulesMatchNothing) {
  Rules r;
  EXPECT_EQ(r.match(get("/")), 0);
}

TEST(RulesTest, PathPatternIsCaseSensitiveAndIgnoresTheQuery) {
  Rules r;
  r.add(1, {cond(Field::PathPattern, {"/api/*", "/v?/status"})}, 201);
  EXPECT_EQ(r.match(get("/api/users?x=1")), 201);
  EXPECT_EQ(r.match(get("/v2/status")), 201);
  EXPECT_EQ(r.match(get("/API/users")), 0);
  EXPECT_EQ(r.match(get("/v10/status")), 0);
  EXPECT_EQ(r.match(get("/other?p=/api/x")), 0);
  EXPECT_EQ(r.match(get("http://www.example.com/api/x")), 201); // absolute form
}

TEST(RulesTest, HostHeaderIsCaseInsensitiveWithoutPort) {
  Rules r;
  r.add(1, {cond(Field::HostHeader, {"*.Example.com"})}, 202);
  EXPECT_EQ(r.match(get("/", "api.example.com")), 202);
  EXPECT_EQ(r.match(get("/", "API.EXAMPLE.COM:8080")), 202);
  EXPECT_EQ(r.match(get("/", "example.org")), 0);
}

TEST(RulesTest, HttpHeaderNameAndValueCaseInsensitiveWithWildcards) {
  Rules r;
  r.add(1, {header("User-Agent", {"*Mobile*", "curl/?.*"})}, 203);
  EXPECT_EQ(r.match(get("/", "h.example.com", "user-agent: Foo MOBILE bar\r\n")), 203);
  EXPECT_EQ(r.match(get("/", "h.example.com", "USER-AGENT: curl/8.1\r\n")), 203);
  EXPECT_EQ(r.match(get("/", "h.example.com", "User-Agent: desktop\r\n")), 0);
  EXPECT_EQ(r.match(get("/", "h.example.com", "X-Other: mobile\r\n")), 0);
}

TEST(RulesTest, MethodIsExact) {
  Rules r;
  r.add(1, {cond(Field::HttpRequestMethod, {"POST", "PUT"})}, 204);
  EXPECT_EQ(r.match("POST / HTTP/1.1\r\nHost: a.b\r\nContent-Length: 0\r\n\r\n"), 204);
  EXPECT_EQ(r.match("PUT / HTTP/1.1\r\nHost: a.b\r\nContent-Length: 0\r\n\r\n"), 204);
  EXPECT_EQ(r.match(get("/")), 0);
}

TEST(RulesTest, QueryStringKeysAndValuesWithWildcards) {
  Rules r;
  r.add(1, {query({{"version", "v1"}, {"", "*beta*"}})}, 205);
  EXPECT_EQ(r.match(get("/?a=1&VERSION=V1")), 205);
  EXPECT_EQ(r.match(get("/?x=the-BETA-one")), 205);
  EXPECT_EQ(r.match(get("/?version=v2")), 0);
  EXPECT_EQ(r.match(get("/")), 0);
  EXPECT_EQ(r.match(get("/version=v1")), 0); // path, not query
}

TEST(RulesTest, SourceIpCidrs) {
  Rules r;
  r.add(1, {cond(Field::SourceIp, {"10.0.0.0/8", "127.0.0.1/32"})}, 206);
  EXPECT_EQ(r.match(get("/"), 0x0a010203), 206);
  EXPECT_EQ(r.match(get("/"), 0x7f000001), 206);
  EXPECT_EQ(r.match(get("/"), 0x7f000002), 0);
  Rule bad;
  bad.conditions = {cond(Field::SourceIp, {"10.0.0.0/33"})};
  uint32_t counter = 0;
  EXPECT_FALSE(prepareRule(bad, 1, counter).isOk());
}

TEST(RulesTest, AndAcrossConditionsOrWithinValues) {
  Rules r;
  r.add(1, {cond(Field::PathPattern, {"/a", "/b"}), cond(Field::HostHeader, {"x.example.com"})},
        207);
  EXPECT_EQ(r.match(get("/a", "x.example.com")), 207);
  EXPECT_EQ(r.match(get("/b", "x.example.com")), 207);
  EXPECT_EQ(r.match(get("/a", "y.example.com")), 0);
  EXPECT_EQ(r.match(get("/c", "x.example.com")), 0);
}

TEST(RulesTest, FirstByPriorityWins) {
  Rules r; // prepared in priority order, as the snapshot holds them
  r.add(5, {cond(Field::PathPattern, {"/api/v1/*"})}, 208);
  r.add(10, {cond(Field::PathPattern, {"/api/*"})}, 209);
  EXPECT_EQ(r.match(get("/api/v1/x")), 208);
  EXPECT_EQ(r.match(get("/api/v2/x")), 209);
  EXPECT_EQ(r.match(get("/web")), 0);
}

TEST(RulesTest, WeightedForwardFollowsTheWeightsExactly) {
  Action a;
  a.weightedGroups = {{0, 3}, {1, 1}, {2, 0}};
  uint32_t counter = 0;
  auto p = prepareAction(a, 3, counter);
  ASSERT_TRUE(p.isOk());
  ASSERT_EQ(p->schedule.size(), 4u);
  std::map<uint32_t, int> picks;
  for (uint32_t turn = 0; turn < 400; ++turn) {
    picks[chooseTargetGroup(*p, turn)]++;
  }
  EXPECT_EQ(picks[0], 300);
  EXPECT_EQ(picks[1], 100);
  EXPECT_EQ(picks.count(2), 0u);
  a.weightedGroups = {{0, 0}, {1, 0}};
  EXPECT_FALSE(prepareAction(a, 3, counter).isOk());
  a.weightedGroups = {{0, 1}, {5, 1}};
  EXPECT_FALSE(prepareAction(a, 3, counter).isOk());
}

TEST(RedirectTest, TokensAsAlbFillsThem) {
  MessageHead h;
  std::string raw = get("/shop/cart?item=3&q=a", "www.example.com:8080");
  ASSERT_EQ(parseRequestHead(raw.data(), raw.size(), 16384, h), ParseStatus::Complete);
  Redirect r; // all defaults but the protocol
  r.protocol = "HTTPS";
  EXPECT_EQ(redirectLocation(r, h, 8080), "https://www.example.com:8080/shop/cart?item=3&q=a");
  r.port = "443";
  EXPECT_EQ(redirectLocation(r, h, 8080), "https://www.example.com/shop/cart?item=3&q=a");
  r = Redirect();
  r.host = "new.example.com";
  r.path = "/v2/#{path}";
  r.query = "from=#{host}";
  EXPECT_EQ(redirectLocation(r, h, 80), "http://new.example.com/v2/shop/cart?from=www.example.com");
  r.query = "#{query}";
  std::string noQuery = get("/", "a.example.com");
  ASSERT_EQ(parseRequestHead(noQuery.data(), noQuery.size(), 16384, h), ParseStatus::Complete);
  EXPECT_EQ(redirectLocation(r, h, 80), "http://new.example.com/v2/"); // no "?"
  std::string resp = redirectResponse(302, "http://x.example.com/", false);
  EXPECT_EQ(resp, "HTTP/1.1 302 Found\r\nServer: tide\r\nLocation: http://x.example.com/\r\n"
                  "Content-Length: 0\r\n\r\n");
}

} // namespace
} // namespace tide::balancer
