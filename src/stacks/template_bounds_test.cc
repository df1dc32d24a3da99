// Hostile stack files (docs/security.md, "Hostile input"): YAML alias bombs, nesting past the
// limit, repeated keys, text that is not UTF-8, malformed Fn::Sub, and intrinsic functions that
// grow without bound are refused with a precise ValidationError, within a small memory budget.
#include "stacks/intrinsics.h"
#include "stacks/stack_test_fixture.h"
#include "stacks/template.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace tide::stacks {
namespace {

const char* kLoadBalancer = "    Type: AWS::ElasticLoadBalancingV2::LoadBalancer\n";

// A "billion laughs" of about 500 bytes: nine levels of anchors, each a list of nine aliases of the
// one before (9^9 = 387,420,489 strings once expanded), under Metadata as a real file would
// hide it.
std::string billionLaughs() {
  std::string y = "Metadata:\n  a: &a [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", "
                  "\"lol\", \"lol\", \"lol\"]\n";
  for (char c = 'b'; c <= 'i'; ++c) {
    std::string prev(1, static_cast<char>(c - 1));
    y += "  " + std::string(1, c) + ": &" + std::string(1, c) + " [";
    for (int i = 0; i < 9; ++i) {
      y += (i ? ", *" : "*") + prev;
    }
    y += "]\n";
  }
  return y + "Resources:\n  LB:\n" + kLoadBalancer;
}

std::string refusal(std::string_view body) {
  Result<Template> t = parseTemplate(body);
  EXPECT_FALSE(t.isOk()) << body.substr(0, 200);
  if (t.isOk()) {
    return "";
  }
  EXPECT_EQ(t.status().code(), "ValidationError");
  return t.status().message();
}

bool has(const std::string& text, const std::string& piece) {
  return text.find(piece) != std::string::npos;
}

// Runs f in a child process whose address space is capped at 512 MiB: the child's exit status
// (or 100 + the signal that ended it). Before the bound, the billion laughs took 24 GB.
template <typename F> int inChildWithin512MiB(F f) {
  pid_t pid = ::fork();
  if (pid == 0) {
    rlimit cap{512u << 20, 512u << 20};
    ::setrlimit(RLIMIT_AS, &cap);
    int code = 0;
    try {
      code = f();
    } catch (...) {
      code = 99; // std::bad_alloc: the parse needed more than the cap
    }
    ::_exit(code);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

TEST(TemplateBounds, BillionLaughsIsRefusedWithinASmallMemoryBudget) {
  std::string bomb = billionLaughs();
  EXPECT_LT(bomb.size(), 600u);
  std::string m = refusal(bomb);
  EXPECT_TRUE(has(m, "YAML aliases expand the template past what tide reads")) << m;
  EXPECT_TRUE(has(m, "(line ")) << m;
  int code = inChildWithin512MiB([&] {
    Result<Template> t = parseTemplate(bomb);
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    // Peak resident memory of the child (KiB), whatever the test binary held before the fork.
    std::printf("billion laughs refused; child's peak RSS %ld KiB\n", usage.ru_maxrss);
    std::fflush(stdout); // the child ends with _exit

    return !t.isOk() && has(t.status().message(), "YAML aliases") ? 0 : 1;
  });
  EXPECT_EQ(code, 0);
}

TEST(TemplateBounds, AliasesWithinTheBudgetStillWork) {
  auto t = parseTemplate("Metadata:\n  common: &tags {Team: web, Cost: shop}\n"
                         "  again: *tags\nResources:\n  LB:\n" +
                         std::string(kLoadBalancer));
  ASSERT_TRUE(t.isOk()) << t.status().toString();
  EXPECT_EQ(t->document["Metadata"]["again"]["Team"], "web");
}

TEST(TemplateBounds, AliasInsideItsOwnAnchorIsRefused) {
  std::string m =
      refusal("Metadata:\n  a: &a [x, *a]\nResources:\n  LB:\n" + std::string(kLoadBalancer));
  EXPECT_TRUE(has(m, "nested deeper than 128 levels") || has(m, "YAML aliases")) << m;
}

std::string deepJson(size_t depth) {
  return R"({"Resources": {"LB": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",)"
         R"( "Metadata": )" +
         std::string(depth, '[') + "1" + std::string(depth, ']') + "}}}";
}

TEST(TemplateBounds, NestingIsBoundedInJsonTemplates) {
  // 100,000 levels (200 KB): the file that crashed the server.
  std::string m = refusal(deepJson(100'000));
  EXPECT_TRUE(has(m, "Template format error: JSON not well-formed.")) << m;
  EXPECT_TRUE(has(m, "deeper than 128 levels, at Resources.LB.Metadata")) << m;
  // The limit is on arrays and objects: 128 of them, the three around Metadata included.
  EXPECT_TRUE(parseTemplate(deepJson(125)).isOk());
  EXPECT_FALSE(parseTemplate(deepJson(126)).isOk());
}

TEST(TemplateBounds, ThirtyThousandNestedJoinsAreRefused) {
  std::string v = "\"x\"";
  std::string open, close;
  for (int i = 0; i < 30'000; ++i) {
    open += R"({"Fn::Join": ["", [)";
    close += "]]}";
  }
  std::string body = R"({"Resources": {"LB": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",)"
                     R"( "Properties": {"Name": )" +
                     open + v + close + "}}}}";
  EXPECT_TRUE(has(refusal(body), "deeper than 128 levels")) << body.size();
}

TEST(TemplateBounds, NestingIsBoundedInYamlTemplates) {
  // Flow collections 100,000 deep: yaml-cpp's parser stops at its own limit.
  std::string flow = "Metadata: " + std::string(100'000, '[') + std::string(100'000, ']') +
                     "\nResources:\n  LB:\n" + kLoadBalancer;
  EXPECT_TRUE(has(refusal(flow), "YAML nested deeper than 128 levels")) << refusal(flow);
  // Past tide's own limit, below yaml-cpp's.
  std::string deep = "Metadata: " + std::string(200, '[') + std::string(200, ']') +
                     "\nResources:\n  LB:\n" + kLoadBalancer;
  std::string m = refusal(deep);
  EXPECT_TRUE(has(m, "YAML nested deeper than 128 levels (line 1, column")) << m;
  std::string fine = "Metadata: " + std::string(100, '[') + std::string(100, ']') +
                     "\nResources:\n  LB:\n" + kLoadBalancer;
  EXPECT_TRUE(parseTemplate(fine).isOk());
}

TEST(TemplateBounds, RepeatedKeysAreRefused) {
  EXPECT_EQ(refusal(R"({"Resources": {"LB": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer"},)"
                    R"( "LB": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer"}}})"),
            "Template format error: JSON not well-formed. the key 'LB' appears twice in the "
            "object at Resources");
  std::string m =
      refusal("Resources:\n  LB:\n" + std::string(kLoadBalancer) + "  LB:\n" + kLoadBalancer);
  EXPECT_EQ(m, "Template format error: YAML not well-formed. (line 4, column 3): the key 'LB' "
               "appears twice in one map");
}

TEST(TemplateBounds, TextThatIsNotUtf8IsRefusedWithWhere) {
  std::string m = refusal("Resources:\n  LB:\n" + std::string(kLoadBalancer) +
                          "    Metadata: {Note: caf\xe9}\n");
  EXPECT_EQ(m, "Template format error: the template is not valid UTF-8 (line 4, column 25, "
               "byte 93)");
  EXPECT_TRUE(has(refusal("{\"Resources\": \"\xff\"}"), "not valid UTF-8"));
}

// Control characters: YAML and JSON have none, and NUL bytes among the first ones made yaml-cpp
// read the text as UTF-16, whose decoding gave messages and scalars that were not UTF-8 (found
// by fuzz_template).
TEST(TemplateBounds, ControlCharactersAreRefused) {
  std::string m = refusal(std::string("\x1f\0Resources: {\"\0\0\0 LB\": }|", 26));
  EXPECT_EQ(m, "Template format error: the template holds the control character U+001F (line 1, "
               "column 1); YAML and JSON text has none but tab, line feed and carriage return");
  EXPECT_TRUE(has(
      refusal("Resources:\n  LB:\n" + std::string(kLoadBalancer) + "    Metadata: {Note: \x7f}\n"),
      "U+007F (line 4"));
  // CR LF line ends and tabs inside text are fine.
  EXPECT_TRUE(parseTemplate("Resources:\r\n  LB:\r\n    Type: "
                            "AWS::ElasticLoadBalancingV2::LoadBalancer\r\n    Metadata: "
                            "{Note: \"a\tb\"}\r\n")
                  .isOk());
}

TEST(TemplateBounds, SubSyntaxIsCheckedAtValidation) {
  auto sub = [](const std::string& s) {
    return "Resources:\n  LB:\n" + std::string(kLoadBalancer) + "    Properties: {Name: !Sub '" +
           s + "'}\n";
  };
  EXPECT_EQ(refusal(sub("web-${AWS::StackName")),
            "Template format error: Resources.LB.Properties.Name: Fn::Sub: unclosed ${ in "
            "'web-${AWS::StackName'");
  EXPECT_TRUE(has(refusal(sub("web-${}")), "Fn::Sub: empty ${} in 'web-${}'"));
  EXPECT_TRUE(has(refusal(sub("web-${ }")), "empty ${}"));
  EXPECT_TRUE(has(refusal(sub("web-${AWS::StackName}-${not a name}")),
                  "Fn::Sub: ${not a name} in 'web-${AWS::StackName}-${not a name}' is not a "
                  "variable name"));
  EXPECT_TRUE(has(refusal(sub("${x-y}")), "is not a variable name"));
  EXPECT_TRUE(parseTemplate(sub("web-${AWS::StackName}-${!Literal}-${AWS::Region}")).isOk());
  // The same checks in the variable form.
  std::string varForm = "Resources:\n  LB:\n" + std::string(kLoadBalancer) +
                        "    Properties:\n      Name: !Sub ['${X}-${', {X: a}]\n";
  EXPECT_TRUE(has(refusal(varForm), "unclosed ${"));
}

TEST(TemplateBounds, TooManyResourcesAreRefused) {
  std::string body = "Resources:\n";
  for (int i = 0; i < 501; ++i) {
    body += "  LB" + std::to_string(i) + ":\n" + kLoadBalancer;
  }
  EXPECT_EQ(refusal(body),
            "Template format error: Number of resources, 501, is greater than maximum allowed, "
            "500");
}

// A long plain scalar of digits: read by hand, not by std::regex (which recursed once per
// character and overflowed the stack).
TEST(TemplateBounds, LongNumericScalarsAreText) {
  std::string digits(300'000, '7');
  auto t = parseTemplate("Metadata: {N: " + digits + ", F: 1." + digits + "}\nResources:\n  LB:\n" +
                         kLoadBalancer);
  ASSERT_TRUE(t.isOk()) << t.status().toString();
  EXPECT_EQ(t->document["Metadata"]["N"], digits); // too large for a double: text
  EXPECT_TRUE(t->document["Metadata"]["F"].is_number_float());
}

ResolveScope scopeOf(const Template& t) {
  ResolveScope sc;
  sc.tmpl = &t;
  sc.stackName = "s";
  sc.ref = [](const std::string& id) -> Result<Json> { return Json("arn:" + id); };
  sc.getAtt = [](const std::string& id, const std::string& a) -> Result<Json> {
    return Json(id + "." + a);
  };
  return sc;
}

// Fn::Sub variables used many times, nested: 1,000 uses a level, four levels, would be 10^12
// bytes. Refused once 4 MiB are made.
TEST(TemplateBounds, NestedSubsAreBoundedWhenEvaluated) {
  Json v = "x";
  for (int level = 0; level < 4; ++level) {
    std::string s;
    for (int i = 0; i < 1000; ++i) {
      s += "${v}";
    }
    v = Json{{"Fn::Sub", Json::array({s, {{"v", v}}})}};
  }
  auto t = parseTemplate("Resources:\n  LB:\n" + std::string(kLoadBalancer));
  ASSERT_TRUE(t.isOk());
  ResolveScope sc = scopeOf(*t);
  auto r = resolveValue(v, sc, "Outputs.O.Value");
  ASSERT_FALSE(r.isOk());
  EXPECT_TRUE(has(r.status().message(), "larger than tide evaluates (4 MiB"))
      << r.status().message();
  // Two levels (a million bytes) are fine.
  Json two = "x";
  for (int level = 0; level < 2; ++level) {
    std::string s;
    for (int i = 0; i < 1000; ++i) {
      s += "${v}";
    }
    two = Json{{"Fn::Sub", Json::array({s, {{"v", two}}})}};
  }
  auto ok = resolveValue(two, sc, "P");
  ASSERT_TRUE(ok.isOk()) << ok.status().toString();
  EXPECT_EQ((**ok).get<std::string>().size(), 1'000'000u);
}

// A parameter whose value holds its own ${Name}: substituted once, not forever.
TEST(TemplateBounds, SubstitutingAParameterIntoItsOwnValueEnds) {
  auto t = parseTemplate("Parameters:\n  P: {Type: String}\nResources:\n  LB:\n" +
                         std::string(kLoadBalancer) + "    Properties: {Name: !Sub 'a-${P}'}\n");
  ASSERT_TRUE(t.isOk()) << t.status().toString();
  Json out = substituteParameters(t->resource("LB")->properties, *t, {{"P", "${P}${P}"}});
  EXPECT_EQ(out["Name"]["Fn::Sub"], "a-${P}${P}");
}

// Through the API: each hostile file refused by CreateStack and ValidateTemplate with a
// ValidationError, and nothing made.
class HostileStackFileTest : public StackEngineTest {};

TEST_F(HostileStackFileTest, CreateStackRefusesAndMakesNothing) {
  std::string deep = deepJson(100'000);
  std::string badSub =
      "Resources:\n  LB:\n" + std::string(kLoadBalancer) + "    Properties: {Name: !Sub 'x-${'}\n";
  for (const std::string& body : {billionLaughs(), deep, badSub}) {
    auto [code, message] = error("CreateStack", request(body));
    EXPECT_EQ(code, "ValidationError");
    EXPECT_TRUE(has(message, "Template format error")) << message;
    auto [vcode, vmessage] = error("ValidateTemplate", {{"TemplateBody", body}});
    EXPECT_EQ(vcode, "ValidationError");
    EXPECT_EQ(vmessage, message);
  }
  EXPECT_TRUE(ok("DescribeStacks", Json::object())["Stacks"].empty());
  EXPECT_TRUE(ok("DescribeLoadBalancers", Json::object())["LoadBalancers"].empty());
}

} // namespace
} // namespace tide::stacks
