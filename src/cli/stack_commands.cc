// `tide up FILE`, `tide down FILE` and `tide stack ls|resources`: stack files (CloudFormation
// templates) through CreateStack / UpdateStack / DeleteStack, waiting until the stack settles.
//
// The stack's name is the file's name without its extension unless --stack-name says
// otherwise. `tide up` sends the file's directory as TemplateBasePath, so that relative paths
// in the file (an image's SourceDirectory) mean the same wherever tide is run from.
#include "cli/commands.h"
#include "cli/table.h"
#include "common/text.h"
#include "common/utf8.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <thread>

namespace tide::cli {

namespace {

namespace fs = std::filesystem;

bool jsonOutput(CLI::App& app) {
  return app.get_option("--output")->as<std::string>() == "json";
}

void stacksTable(const Json& stacks) {
  Table t({"NAME", "STATUS", "CREATED", "UPDATED", "REASON"});
  for (const Json& s : stacks) {
    t.add({str(s, "StackName"), str(s, "StackStatus"), str(s, "CreationTime"),
           str(s, "LastUpdatedTime"), str(s, "StackStatusReason", "")});
  }
  t.print();
}

void outputsTable(const Json& stack) {
  if (stack["Outputs"].empty()) {
    return;
  }
  Table t({"OUTPUT", "VALUE", "DESCRIPTION"});
  for (const Json& o : stack["Outputs"]) {
    t.add({str(o, "OutputKey"), str(o, "OutputValue"), str(o, "Description", "")});
  }
  t.print();
}

void resourcesTable(const Json& resources) {
  Table t({"LOGICAL ID", "TYPE", "STATUS", "PHYSICAL ID", "REASON"});
  for (const Json& r : resources) {
    t.add({str(r, "LogicalResourceId"), str(r, "ResourceType"), str(r, "ResourceStatus"),
           str(r, "PhysicalResourceId", ""), str(r, "ResourceStatusReason", "")});
  }
  t.print();
}

// The stack, or null when it does not exist.
Json describeStack(const ApiClient& api, const std::string& name) {
  auto r = api.call("DescribeStacks", {{"StackName", name}});
  if (!r) {
    if (r.status().code() == "ValidationError" &&
        r.status().message().find("does not exist") != std::string::npos) {
      return nullptr;
    }
    die(r.status());
  }
  return (*r)["Stacks"][0];
}

// Polls until the stack is no longer *_IN_PROGRESS (or gone); prints resources as they settle
// unless quiet. Returns the last DescribeStacks shape of it (null when gone).
// "LogicalId STATUS" of each resource of the stack now, so that waiting shows only changes.
std::set<std::string> resourceStates(const ApiClient& api, const std::string& name) {
  std::set<std::string> out;
  auto r = api.call("DescribeStackResources", {{"StackName", name}});
  for (const Json& res : r ? (*r)["StackResources"] : Json::array()) {
    out.insert(str(res, "LogicalResourceId") + " " + str(res, "ResourceStatus"));
  }
  return out;
}

Json waitSettled(const ApiClient& api, const std::string& name, int timeoutSeconds, bool quiet,
                 std::set<std::string> shown = {}) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds);
  while (true) {
    Json stack = describeStack(api, name);
    if (!quiet && !stack.is_null()) {
      auto r = api.call("DescribeStackResources", {{"StackName", name}});
      for (const Json& res : r ? (*r)["StackResources"] : Json::array()) {
        std::string status = str(res, "ResourceStatus");
        if (status.ends_with("_IN_PROGRESS")) {
          continue;
        }
        std::string key = str(res, "LogicalResourceId") + " " + status;
        if (shown.insert(key).second) {
          std::printf("  %-16s %-42s %-18s %s\n", status.c_str(), str(res, "ResourceType").c_str(),
                      str(res, "LogicalResourceId").c_str(),
                      str(res, "PhysicalResourceId", "").c_str());
          std::fflush(stdout);
        }
      }
    }
    if (stack.is_null() || !str(stack, "StackStatus").ends_with("_IN_PROGRESS")) {
      return stack;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      die(Status("Timeout", "stack " + name + " still " + str(stack, "StackStatus") + " after " +
                                std::to_string(timeoutSeconds) + " s"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// The id of the stack's newest event, "" when it has none: where the events of what comes next
// begin.
std::string newestEventId(const ApiClient& api, const std::string& name) {
  auto r = api.call("DescribeStackEvents", {{"StackName", name}});
  if (!r || (*r)["StackEvents"].empty()) {
    return "";
  }
  return str((*r)["StackEvents"][0], "EventId");
}

// Prints the stack's failed events newer than the event `since` ("" : all), oldest first, with
// their reasons: what made a create or update roll back.
void printFailures(const ApiClient& api, const std::string& name, const std::string& since) {
  std::vector<Json> failed;
  Json request = {{"StackName", name}};
  for (int page = 0; page < 100; ++page) {
    auto r = api.call("DescribeStackEvents", request);
    if (!r) {
      return;
    }
    bool reached = false;
    for (const Json& e : (*r)["StackEvents"]) {
      if (!since.empty() && str(e, "EventId") == since) {
        reached = true;
        break;
      }
      if (str(e, "ResourceStatus").ends_with("_FAILED") &&
          str(e, "LogicalResourceId") != str(e, "StackName")) {
        failed.push_back(e);
      }
    }
    if (reached || !r->contains("NextToken")) {
      break;
    }
    request["NextToken"] = (*r)["NextToken"];
  }
  if (!failed.empty()) {
    std::printf("what failed:\n");
  }
  for (auto it = failed.rbegin(); it != failed.rend(); ++it) {
    std::printf("  %-16s %-42s %-18s %s\n", str(*it, "ResourceStatus").c_str(),
                str(*it, "ResourceType").c_str(), str(*it, "LogicalResourceId").c_str(),
                str(*it, "ResourceStatusReason", "").c_str());
  }
  std::fflush(stdout);
}

std::string stackNameOf(const std::string& file, const std::string& given) {
  if (!given.empty()) {
    return given;
  }
  if (file.empty()) {
    die(Status("MissingParameter", "give a stack FILE or --stack-name NAME"));
  }
  return fs::path(file).stem().string();
}

} // namespace

void addStackCommands(CLI::App& app, CommandContext& ctx) {
  // --------------------------------------------------------------------------------- tide up
  auto* up = app.add_subcommand("up", "create or update a stack from a stack file (a "
                                      "CloudFormation template) and wait until it is ready");
  {
    static std::string file, stackName;
    static std::vector<std::string> parameters;
    static int timeout = 600;
    up->add_option("FILE", file, "stack file (YAML or JSON)")->required();
    up->add_option("--stack-name", stackName, "stack name (default: the file's name)");
    up->add_option("--parameter,-p", parameters, "KEY=VALUE for a template parameter (repeatable)");
    up->add_option("--timeout", timeout, "seconds to wait (default 600)");
    up->callback([&] {
      std::optional<std::string> body = readFile(file);
      if (!body) {
        die(Status("InvalidParameterValue", "cannot read the stack file '" + file + "'"));
      }
      if (size_t bad = invalidUtf8Offset(*body); bad != std::string::npos) {
        TextPosition at = textPosition(*body, bad);
        die(validationError("the stack file '" + file + "' is not valid UTF-8 (line " +
                            std::to_string(at.line) + ", column " + std::to_string(at.column) +
                            ", byte " + std::to_string(bad) + "); stack files are UTF-8 text"));
      }
      std::string name = stackNameOf(file, stackName);
      Json params = Json::array();
      for (const auto& kv : parameters) {
        auto [k, v] = keyValue(kv, "--parameter");
        params.push_back({{"ParameterKey", k}, {"ParameterValue", v}});
      }
      std::error_code ec;
      std::string base = fs::absolute(fs::path(file), ec).parent_path().lexically_normal().string();
      Json request = {{"StackName", name},
                      {"TemplateBody", *body},
                      {"Parameters", params},
                      {"TemplateBasePath", base}};
      bool quiet = jsonOutput(app);
      ApiClient api = ctx.client();
      Json existing = describeStack(api, name);
      if (!existing.is_null() && str(existing, "StackStatus").ends_with("_IN_PROGRESS") &&
          str(existing, "StackStatus") != "REVIEW_IN_PROGRESS") {
        // Still on its way (another tide up, or a server that restarted mid-update goes on
        // with it): an update now would be refused, so wait for it to settle first.
        existing = waitSettled(api, name, timeout, true);
      }
      if (!existing.is_null() && str(existing, "StackStatus") == "ROLLBACK_COMPLETE") {
        // A stack whose creation failed can only be deleted (as in CloudFormation): do it.
        orDie(api.call("DeleteStack", {{"StackName", name}}));
        waitSettled(api, name, timeout, true);
        existing = nullptr;
      }
      bool changed = true;
      std::set<std::string> before;
      std::string since; // this run's events come after this one
      if (existing.is_null()) {
        orDie(api.call("CreateStack", request));
        if (!quiet) {
          std::printf("creating stack %s\n", name.c_str());
        }
      } else {
        before = resourceStates(api, name);
        since = newestEventId(api, name);
        auto r = api.call("UpdateStack", request);
        if (!r && r.status().message() == "No updates are to be performed.") {
          changed = false;
          if (!quiet) {
            std::printf("stack %s is up to date (no changes)\n", name.c_str());
          }
        } else {
          orDie(std::move(r));
          if (!quiet) {
            std::printf("updating stack %s\n", name.c_str());
          }
        }
      }
      Json stack =
          changed ? waitSettled(api, name, timeout, quiet, before) : describeStack(api, name);
      if (stack.is_null()) {
        die(Status("StackGone", "stack " + name + " was deleted while tide up waited"));
      }
      std::string status = str(stack, "StackStatus");
      if (status != "CREATE_COMPLETE" && status != "UPDATE_COMPLETE") {
        if (!quiet && changed) {
          printFailures(api, name, since);
        }
        // As CloudFormation: a failed update goes back to the last good state, a failed
        // creation deletes what it made (docs/reliability.md, "Stack updates").
        std::string outcome = status == "UPDATE_ROLLBACK_COMPLETE"
                                  ? " (rolled back: every resource is as it was before the update)"
                              : status == "ROLLBACK_COMPLETE"
                                  ? " (rolled back: what the stack had made is deleted)"
                                  : "";
        die(Status(status, "stack " + name + ": " + str(stack, "StackStatusReason", "") + outcome));
      }
      ctx.outcome = Outcome{Json{{"Stacks", Json::array({stack})}}, [](const Json& j) {
                              const Json& s = j["Stacks"][0];
                              std::printf("stack %s: %s\n", str(s, "StackName").c_str(),
                                          str(s, "StackStatus").c_str());
                              outputsTable(s);
                            }};
    });
  }

  // ------------------------------------------------------------------------------- tide down
  auto* down = app.add_subcommand("down", "delete a stack and everything it made, and wait");
  {
    static std::string file, stackName;
    static int timeout = 600;
    down->add_option("FILE", file, "stack file (its name names the stack)");
    down->add_option("--stack-name", stackName, "stack name (default: the file's name)");
    down->add_option("--timeout", timeout, "seconds to wait (default 600)");
    down->callback([&] {
      std::string name = stackNameOf(file, stackName);
      ApiClient api = ctx.client();
      Json existing = describeStack(api, name);
      if (existing.is_null()) {
        die(validationError("Stack with id " + name + " does not exist"));
      }
      std::set<std::string> before = resourceStates(api, name);
      orDie(api.call("DeleteStack", {{"StackName", name}}));
      bool quiet = jsonOutput(app);
      if (!quiet) {
        std::printf("deleting stack %s\n", name.c_str());
      }
      Json stack = waitSettled(api, name, timeout, quiet, before);
      if (!stack.is_null()) {
        die(Status(str(stack, "StackStatus"),
                   "stack " + name + ": " + str(stack, "StackStatusReason", "")));
      }
      Json gone = {{"StackName", name}, {"StackStatus", "DELETE_COMPLETE"}};
      ctx.outcome = Outcome{Json{{"Stacks", Json::array({gone})}}, [name](const Json&) {
                              std::printf("stack %s: DELETE_COMPLETE\n", name.c_str());
                            }};
    });
  }

  // ------------------------------------------------------------------------------ tide stack
  auto* stack = app.add_subcommand("stack", "stacks made by tide up")->require_subcommand(1);
  {
    stack->add_subcommand("ls", "list stacks")->callback([&] {
      Json r = orDie(ctx.client().call("DescribeStacks", Json::object()));
      ctx.outcome = Outcome{r, [](const Json& j) { stacksTable(j["Stacks"]); }};
    });
    auto* describe = stack->add_subcommand("describe", "a stack with its parameters and outputs");
    static std::string describeName;
    describe->add_option("NAME", describeName, "stack name")->required();
    describe->callback([&] {
      Json r = orDie(ctx.client().call("DescribeStacks", {{"StackName", describeName}}));
      ctx.outcome = Outcome{r, [](const Json& j) {
                              stacksTable(j["Stacks"]);
                              outputsTable(j["Stacks"][0]);
                            }};
    });
    auto* resources = stack->add_subcommand("resources", "a stack's resources");
    static std::string resourcesName;
    resources->add_option("NAME", resourcesName, "stack name")->required();
    resources->callback([&] {
      Json r = orDie(ctx.client().call("DescribeStackResources", {{"StackName", resourcesName}}));
      ctx.outcome = Outcome{r, [](const Json& j) { resourcesTable(j["StackResources"]); }};
    });
  }
}

} // namespace tide::cli
