// `tide asg refresh`, `refreshes`, `cancel-refresh`, `rollback-refresh`: instance refresh
// (StartInstanceRefresh and friends). With --output json each prints the Auto Scaling response
// shape (DescribeInstanceRefreshes, or the action's own).
#include "cli/commands.h"
#include "cli/table.h"

namespace tide::cli {

namespace {

void refreshesTable(const Json& refreshes) {
  Table t({"REFRESH", "STATUS", "DONE", "TO UPDATE", "TEMPLATE", "START", "END", "REASON"});
  for (const Json& r : refreshes) {
    std::string tmpl = "(the group's)";
    if (r.contains("DesiredConfiguration")) {
      const Json& lt = r["DesiredConfiguration"]["LaunchTemplate"];
      tmpl = str(lt, "LaunchTemplateName") + ":" + str(lt, "Version");
    }
    std::string status = str(r, "Status");
    if (r.contains("RollbackDetails")) {
      status += " (rollback " + str(r["RollbackDetails"], "PercentageCompleteOnRollback") + "%)";
    }
    t.add({str(r, "InstanceRefreshId"), status, str(r, "PercentageComplete") + "%",
           str(r, "InstancesToUpdate"), tmpl, str(r, "StartTime"), str(r, "EndTime", ""),
           str(r, "StatusReason", "")});
  }
  t.print();
}

Json describe(const ApiClient& api, const std::string& name) {
  return orDie(api.call("DescribeInstanceRefreshes", {{"AutoScalingGroupName", name}}));
}

} // namespace

void addAsgRefreshCommands(CLI::App& asg, CommandContext& ctx) {
  auto show = [&ctx](const ApiClient& api, const std::string& name) {
    ctx.outcome =
        Outcome{describe(api, name), [](const Json& j) { refreshesTable(j["InstanceRefreshes"]); }};
  };
  {
    auto* start = asg.add_subcommand(
        "refresh", "replace a group's instances in batches (StartInstanceRefresh)");
    static std::string name, tmpl, checkpoints;
    static int minHealthy = -1, maxHealthy = -1, warmup = -1, delay = -1;
    static bool skip = false, rollback = false;
    start->add_option("NAME", name, "group")->required();
    start->add_option("--launch-template", tmpl,
                      "NAME[:VERSION]: the desired configuration (default: the group's own)");
    start->add_option("--min-healthy", minHealthy, "MinHealthyPercentage (default 90)");
    start->add_option("--max-healthy", maxHealthy,
                      "MaxHealthyPercentage, 100..200 (default 100; above: launch first)");
    start->add_option("--warmup", warmup, "InstanceWarmup in seconds");
    start->add_option("--checkpoints", checkpoints, "CheckpointPercentages, e.g. 50,100");
    start->add_option("--checkpoint-delay", delay, "CheckpointDelay in seconds");
    start->add_flag("--skip-matching", skip, "leave instances already on the configuration");
    start->add_flag("--auto-rollback", rollback, "roll back if the refresh fails");
    start->callback([&ctx, show] {
      Json prefs = Json::object();
      for (auto [key, v] : {std::pair{"MinHealthyPercentage", minHealthy},
                            {"MaxHealthyPercentage", maxHealthy},
                            {"InstanceWarmup", warmup},
                            {"CheckpointDelay", delay}}) {
        if (v >= 0) {
          prefs[key] = v;
        }
      }
      if (!checkpoints.empty()) {
        Json list = Json::array();
        size_t at = 0;
        while (at <= checkpoints.size()) {
          size_t comma = checkpoints.find(',', at);
          std::string part =
              checkpoints.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
          try {
            list.push_back(std::stoi(part));
          } catch (const std::exception&) {
            throw CLI::ValidationError("--checkpoints", "a list of percentages like 50,100");
          }
          if (comma == std::string::npos) {
            break;
          }
          at = comma + 1;
        }
        prefs["CheckpointPercentages"] = list;
      }
      if (skip) {
        prefs["SkipMatching"] = true;
      }
      if (rollback) {
        prefs["AutoRollback"] = true;
      }
      Json p = {{"AutoScalingGroupName", name}, {"Preferences", prefs}};
      if (!tmpl.empty()) {
        size_t colon = tmpl.find(':');
        Json lt = {{"LaunchTemplateName", tmpl.substr(0, colon)}};
        if (colon != std::string::npos) {
          lt["Version"] = tmpl.substr(colon + 1);
        }
        p["DesiredConfiguration"] = {{"LaunchTemplate", lt}};
      }
      ApiClient api = ctx.client();
      orDie(api.call("StartInstanceRefresh", p));
      show(api, name);
    });
  }
  {
    auto* list = asg.add_subcommand("refreshes", "a group's instance refreshes, newest first");
    static std::string name;
    list->add_option("NAME", name, "group")->required();
    list->callback([&ctx, show] { show(ctx.client(), name); });
  }
  static std::string names[2]; // the two commands' NAME, as the static options above
  int k = 0;
  for (auto [command, action, help] :
       {std::tuple{"cancel-refresh", "CancelInstanceRefresh", "cancel a group's running refresh"},
        {"rollback-refresh", "RollbackInstanceRefresh",
         "roll a group's running refresh back to the previous configuration"}}) {
    auto* c = asg.add_subcommand(command, help);
    std::string* name = &names[k++];
    c->add_option("NAME", *name, "group")->required();
    c->callback([&ctx, show, action = std::string(action), name] {
      ApiClient api = ctx.client();
      orDie(api.call(action, {{"AutoScalingGroupName", *name}}));
      show(api, *name);
    });
  }
}

} // namespace tide::cli
