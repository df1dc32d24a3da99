#include "cli/cli.h"

#include "api/credentials.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/support.h"
#include "cli/table.h"
#include "common/data_dir.h"
#include "common/text.h"
#include "common/utf8.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace tide::cli {

namespace fs = std::filesystem;

namespace {

void imagesTable(const Json& images) {
  Table t({"IMAGE ID", "NAME", "STATE", "PORT", "FILES", "SIZE", "RUN", "CREATED"});
  for (const Json& i : images) {
    t.add({str(i, "ImageId"), str(i, "Name"), str(i, "State"), str(i, "Port"), str(i, "FileCount"),
           bytes(i.value("SizeBytes", int64_t(-1))), str(i, "RunCommand"), str(i, "CreationDate")});
  }
  t.print();
  for (const Json& i : images) {
    if (i.contains("StateReason")) {
      std::printf("%s: %s\n", str(i, "ImageId").c_str(), str(i["StateReason"], "Message").c_str());
    }
  }
}

void instancesTable(const Json& instances) {
  Table t({"INSTANCE ID", "STATE", "TYPE", "IMAGE ID", "ADDRESS", "CPU%", "MEMORY", "LAUNCHED"});
  for (const Json& i : instances) {
    std::string addr =
        i.contains("PrivateIpAddress") ? str(i, "PrivateIpAddress") + ":" + str(i, "Port") : "-";
    std::string cpu = "-";
    if (i.contains("CPUUtilization")) {
      char buf[16];
      snprintf(buf, sizeof buf, "%.1f", i["CPUUtilization"].get<double>());
      cpu = buf;
    }
    t.add({str(i, "InstanceId"), str(i["State"], "Name"), str(i, "InstanceType"), str(i, "ImageId"),
           addr, cpu, bytes(i.value("MemoryUsedBytes", int64_t(-1))), str(i, "LaunchTime")});
  }
  t.print();
  for (const Json& i : instances) {
    if (i.contains("StateReason") && str(i["State"], "Name") != "running") {
      bool own = str(i["StateReason"], "Code") == "Client.InstanceInitiatedShutdown";
      std::printf(
          "%s: %s%s\n", str(i, "InstanceId").c_str(), str(i["StateReason"], "Message").c_str(),
          own && i.contains("LastExit") ? (" (the app " + str(i, "LastExit") + ")").c_str() : "");
    }
  }
}

Json allInstances(const Json& describe) {
  Json out = Json::array();
  for (const Json& r : describe["Reservations"]) {
    for (const Json& i : r["Instances"]) {
      out.push_back(i);
    }
  }
  return out;
}

void templatesTable(const Json& lts) {
  Table t({"TEMPLATE ID", "NAME", "DEFAULT", "LATEST", "CREATED"});
  for (const Json& l : lts) {
    t.add({str(l, "LaunchTemplateId"), str(l, "LaunchTemplateName"), str(l, "DefaultVersionNumber"),
           str(l, "LatestVersionNumber"), str(l, "CreateTime")});
  }
  t.print();
}

void versionsTable(const Json& versions) {
  Table t({"NAME", "VERSION", "DEFAULT", "IMAGE ID", "TYPE", "PORT", "DESCRIPTION"});
  for (const Json& v : versions) {
    const Json& d = v["LaunchTemplateData"];
    t.add({str(v, "LaunchTemplateName"), str(v, "VersionNumber"),
           v.value("DefaultVersion", false) ? "yes" : "", str(d, "ImageId"), str(d, "InstanceType"),
           str(d, "Port"), str(v, "VersionDescription", "")});
  }
  t.print();
}

// Polls until every instance leaves "pending" (or the timeout); returns their latest shapes.
Json waitRunning(const ApiClient& api, const std::vector<std::string>& ids, int timeoutSeconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds);
  while (true) {
    Json d = orDie(api.call("DescribeInstances", {{"InstanceIds", ids}}));
    Json list = allInstances(d);
    bool pending = false;
    for (const Json& i : list) {
      pending = pending || str(i["State"], "Name") == "pending";
    }
    if (!pending) {
      return list;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      die(Status("Timeout",
                 "instances still pending after " + std::to_string(timeoutSeconds) + " s"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

} // namespace

namespace {

int runCommandLine(int argc, char** argv) {
  CLI::App app{"tide: the classic scalable web architecture on your own machine, for real.\n"
               "Start the control plane with `tide server`; the other commands talk to it.",
               "tide"};
  app.require_subcommand(1);
  Globals g;
  const char* envEndpoint = std::getenv("TIDE_ENDPOINT");
  g.endpoint = envEndpoint && *envEndpoint ? envEndpoint : "http://127.0.0.1:4566";
  app.add_option("--endpoint", g.endpoint, "the tide server's API (or TIDE_ENDPOINT)")
      ->capture_default_str();
  app.add_option("--output,-o", g.output, "table, or json for the AWS response shape")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  app.fallthrough();
  // Registered here so that `tide --help` lists it; main() runs it before the CLI parses.
  app.add_subcommand("server", "run the control plane (see tide server --help)")->allow_extras();

  std::optional<Outcome> outcome;
  auto client = [&] { return orDie(ApiClient::fromEndpoint(g.endpoint)); };

  // ----------------------------------------------------------------------------- credentials
  {
    auto* creds = app.add_subcommand(
        "credentials", "print the server's access key as environment variables for AWS clients "
                       "(eval \"$(tide credentials)\")");
    static std::string dataDir = defaultDataDir(), region = "us-east-1";
    creds->add_option("--data-dir", dataDir, "the server's data directory (or TIDE_DATA_DIR)")
        ->capture_default_str();
    creds->add_option("--region", region, "the region clients sign for")->capture_default_str();
    creds->callback([&] {
      std::string path = api::credentialsPath(dataDir);
      Result<api::Credentials> key = api::readCredentials(path);
      if (!key) {
        die(Status(key.status().code(),
                   key.status().code() == "NotFound"
                       ? "no credentials at " + path +
                             ": tide server makes them on its first start with --auth sigv4 "
                             "(the default); a server run with --auth none takes any key, "
                             "such as test/test"
                       : key.status().message()));
      }
      std::printf("export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\n"
                  "export AWS_DEFAULT_REGION=%s\nexport AWS_ENDPOINT_URL=%s\n",
                  key->accessKeyId.c_str(), key->secretAccessKey.c_str(), region.c_str(),
                  g.endpoint.c_str());
    });
  }

  // ---------------------------------------------------------------------------------- images
  auto* image = app.add_subcommand("image", "golden images (AMIs)")->require_subcommand(1);
  {
    auto* create = image->add_subcommand("create", "make an image of a directory or an instance");
    static std::string name, from, run, fromInstance, description, health;
    static int port = 0;
    static bool noWait = false;
    static std::vector<std::string> tags;
    create->add_option("--name", name, "image name (unique)")->required();
    auto* fromOpt = create->add_option("--from", from, "directory holding the app");
    auto* instOpt = create->add_option("--from-instance", fromInstance,
                                       "instance whose files become the image");
    fromOpt->excludes(instOpt);
    create->add_option("--run", run, "command that starts the app (with --from)");
    create->add_option("--port", port, "port the app listens on (default 8080)")
        ->check(CLI::Range(1, 65535));
    create->add_option("--health-check-path", health, "path a health check should ask for");
    create->add_option("--description", description, "free text");
    create->add_option("--tag", tags, "KEY=VALUE tag (repeatable)");
    create->add_flag("--no-wait", noWait, "return at once instead of waiting until available");
    create->callback([&] {
      if (from.empty() && fromInstance.empty()) {
        die(Status("MissingParameter", "give --from DIR (with --run CMD) or --from-instance ID"));
      }
      Json p = {{"Name", name}};
      if (!from.empty()) {
        std::error_code ec;
        fs::path abs = fs::absolute(from, ec);
        if (!fs::is_directory(abs, ec)) {
          die(Status("InvalidParameterValue", "--from '" + from + "' is not a directory"));
        }
        if (run.empty()) {
          die(Status("MissingParameter",
                     "--from needs --run CMD: the command that starts the app"));
        }
        p["SourceDirectory"] = fs::canonical(abs).string();
      } else {
        p["InstanceId"] = fromInstance;
      }
      if (!run.empty()) {
        p["RunCommand"] = run;
      }
      if (port) {
        p["Port"] = port;
      }
      if (!health.empty()) {
        p["HealthCheckPath"] = health;
      }
      if (!description.empty()) {
        p["Description"] = description;
      }
      if (!tags.empty()) {
        p["TagSpecifications"] = tagSpecs(tags, "image");
      }
      ApiClient api = client();
      Json created = orDie(api.call("CreateImage", p));
      std::string id = created["ImageId"];
      Json images;
      for (int i = 0;; ++i) {
        images = orDie(api.call("DescribeImages", {{"ImageIds", {id}}}))["Images"];
        if (noWait || images[0]["State"] != "pending") {
          break;
        }
        if (i > 20 * 600) {
          die(Status("Timeout", "image " + id + " still pending after 10 minutes"));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (images[0]["State"] == "failed") {
        die(Status("ImageFailed",
                   "image " + id + " failed: " + str(images[0]["StateReason"], "Message")));
      }
      outcome = Outcome{created, [images](const Json&) { imagesTable(images); }};
    });
    auto* ls = image->add_subcommand("ls", "list images");
    ls->callback([&] {
      Json r = orDie(client().call("DescribeImages", Json::object()));
      outcome = Outcome{r, [](const Json& j) { imagesTable(j["Images"]); }};
    });
    auto* describe = image->add_subcommand("describe", "show images in full");
    static std::vector<std::string> describeIds;
    describe->add_option("ID", describeIds, "image ids")->required();
    describe->callback([&] {
      Json r = orDie(client().call("DescribeImages", {{"ImageIds", describeIds}}));
      outcome = Outcome{r, [](const Json& j) { std::printf("%s\n", j.dump(2).c_str()); }};
    });
    auto* dereg = image->add_subcommand("deregister", "remove an image (instances keep running)");
    static std::string deregId;
    dereg->add_option("ID", deregId, "image id")->required();
    dereg->callback([&] {
      Json r = orDie(client().call("DeregisterImage", {{"ImageId", deregId}}));
      outcome = Outcome{r, [](const Json&) { std::printf("deregistered %s\n", deregId.c_str()); }};
    });
  }

  // -------------------------------------------------------------------------------- templates
  auto* tmpl = app.add_subcommand("template", "launch templates")->require_subcommand(1);
  {
    // The LaunchTemplateData flags shared by `create` and `version create`.
    struct DataFlags {
      std::string imageId, instanceType, userDataFile;
      int port = 0, diskSize = 0;
      std::vector<std::string> env, tags, securityGroups;
      void add(CLI::App* c) {
        c->add_option("--image-id", imageId, "AMI id");
        c->add_option("--instance-type", instanceType,
                      "t3.micro, c5.large, ... (tide instance "
                      "types)");
        c->add_option("--port", port, "port the app listens on (default: the image's)")
            ->check(CLI::Range(1, 65535));
        c->add_option("--user-data", userDataFile, "script run in the instance before its app");
        c->add_option("--env", env, "NAME=VALUE for the app's environment (repeatable)");
        c->add_option("--tag", tags, "KEY=VALUE tag for instances (repeatable)");
        c->add_option("--security-group-ids", securityGroups, "sg-... (kept, not yet enforced)");
        c->add_option("--disk-size", diskSize, "root volume GiB (kept, not yet enforced)");
      }
      Json data() const {
        Json d = Json::object();
        if (!imageId.empty()) {
          d["ImageId"] = imageId;
        }
        if (!instanceType.empty()) {
          d["InstanceType"] = instanceType;
        }
        if (port) {
          d["Port"] = port;
        }
        if (!userDataFile.empty()) {
          d["UserData"] = readUserData(userDataFile);
        }
        if (!env.empty()) {
          Json e = Json::array();
          for (const auto& kv : env) {
            auto [k, v] = keyValue(kv, "--env");
            e.push_back({{"Name", k}, {"Value", v}});
          }
          d["Environment"] = e;
        }
        if (!tags.empty()) {
          d["TagSpecifications"] = tagSpecs(tags, "instance");
        }
        if (!securityGroups.empty()) {
          d["SecurityGroupIds"] = securityGroups;
        }
        if (diskSize) {
          d["BlockDeviceMappings"] =
              Json::array({{{"DeviceName", "/dev/xvda"}, {"Ebs", {{"VolumeSize", diskSize}}}}});
        }
        return d;
      }
    };
    static DataFlags createFlags, versionFlags;
    static std::string name, description;
    auto* create = tmpl->add_subcommand("create", "create a launch template (version 1)");
    create->add_option("--name", name, "template name (unique)")->required();
    create->add_option("--description", description, "version description");
    createFlags.add(create);
    create->callback([&] {
      Json p = {{"LaunchTemplateName", name}, {"LaunchTemplateData", createFlags.data()}};
      if (!description.empty()) {
        p["VersionDescription"] = description;
      }
      Json r = orDie(client().call("CreateLaunchTemplate", p));
      outcome =
          Outcome{r, [](const Json& j) { templatesTable(Json::array({j["LaunchTemplate"]})); }};
    });

    auto* version = tmpl->add_subcommand("version", "template versions")->require_subcommand(1);
    auto* vcreate = version->add_subcommand("create", "add a version (immutable, numbered)");
    static std::string vname, source, vdescription;
    static bool setDefault = false;
    vcreate->add_option("--name", vname, "template name")->required();
    vcreate->add_option("--source-version", source,
                        "version whose data the new one starts from ($Latest, $Default, N)");
    vcreate->add_option("--description", vdescription, "version description");
    vcreate->add_flag("--set-default", setDefault, "make the new version the default");
    versionFlags.add(vcreate);
    vcreate->callback([&] {
      Json p = {{"LaunchTemplateName", vname}, {"LaunchTemplateData", versionFlags.data()}};
      if (!source.empty()) {
        p["SourceVersion"] = source;
      }
      if (!vdescription.empty()) {
        p["VersionDescription"] = vdescription;
      }
      ApiClient api = client();
      Json r = orDie(api.call("CreateLaunchTemplateVersion", p));
      if (setDefault) {
        orDie(api.call(
            "ModifyLaunchTemplate",
            {{"LaunchTemplateName", vname},
             {"DefaultVersion",
              std::to_string(r["LaunchTemplateVersion"]["VersionNumber"].get<int64_t>())}}));
        r["LaunchTemplateVersion"]["DefaultVersion"] = true;
      }
      outcome = Outcome{
          r, [](const Json& j) { versionsTable(Json::array({j["LaunchTemplateVersion"]})); }};
    });
    auto* vls = version->add_subcommand("ls", "list a template's versions");
    static std::string vlsName;
    vls->add_option("NAME", vlsName, "template name")->required();
    vls->callback([&] {
      Json r =
          orDie(client().call("DescribeLaunchTemplateVersions", {{"LaunchTemplateName", vlsName}}));
      outcome = Outcome{r, [](const Json& j) { versionsTable(j["LaunchTemplateVersions"]); }};
    });
    auto* setDef = tmpl->add_subcommand("set-default", "choose the default version");
    static std::string sdName, sdVersion;
    setDef->add_option("NAME", sdName, "template name")->required();
    setDef->add_option("VERSION", sdVersion, "version number or $Latest")->required();
    setDef->callback([&] {
      Json r = orDie(client().call(
          "ModifyLaunchTemplate", {{"LaunchTemplateName", sdName}, {"DefaultVersion", sdVersion}}));
      outcome =
          Outcome{r, [](const Json& j) { templatesTable(Json::array({j["LaunchTemplate"]})); }};
    });
    auto* ls = tmpl->add_subcommand("ls", "list launch templates");
    ls->callback([&] {
      Json r = orDie(client().call("DescribeLaunchTemplates", Json::object()));
      outcome = Outcome{r, [](const Json& j) { templatesTable(j["LaunchTemplates"]); }};
    });
    auto* del = tmpl->add_subcommand("delete", "delete a launch template and its versions");
    static std::string delName;
    del->add_option("NAME", delName, "template name")->required();
    del->callback([&] {
      Json r = orDie(client().call("DeleteLaunchTemplate", {{"LaunchTemplateName", delName}}));
      outcome =
          Outcome{r, [](const Json& j) { templatesTable(Json::array({j["LaunchTemplate"]})); }};
    });
  }

  // -------------------------------------------------------------------------------- instances
  auto* inst = app.add_subcommand("instance", "instances")->require_subcommand(1);
  {
    auto* run = inst->add_subcommand("run", "launch instances");
    static std::string imageId, type, lt, userData;
    static int count = 1;
    static bool wait = false;
    static std::vector<std::string> tags, env;
    run->add_option("--image-id", imageId, "AMI id");
    run->add_option("--instance-type", type, "instance type");
    run->add_option("--launch-template", lt, "NAME or NAME:VERSION ($Default, $Latest, N)");
    run->add_option("--count", count, "how many")->check(CLI::Range(1, 10000));
    run->add_option("--user-data", userData, "script run before the app");
    run->add_option("--tag", tags, "KEY=VALUE (repeatable)");
    run->add_option("--env", env, "NAME=VALUE for the app's environment (repeatable)");
    run->add_flag("--wait", wait, "wait until they leave pending");
    run->callback([&] {
      if (lt.empty() && (imageId.empty() || type.empty())) {
        die(Status("MissingParameter",
                   "give --image-id and --instance-type, or --launch-template NAME[:VERSION]"));
      }
      Json p = {{"MinCount", count}, {"MaxCount", count}};
      if (!lt.empty()) {
        size_t colon = lt.find(':');
        Json spec = {{"LaunchTemplateName", lt.substr(0, colon)}};
        if (colon != std::string::npos) {
          spec["Version"] = lt.substr(colon + 1);
        }
        p["LaunchTemplate"] = spec;
      }
      if (!imageId.empty()) {
        p["ImageId"] = imageId;
      }
      if (!type.empty()) {
        p["InstanceType"] = type;
      }
      if (!userData.empty()) {
        p["UserData"] = readUserData(userData);
      }
      if (!tags.empty()) {
        p["TagSpecifications"] = tagSpecs(tags, "instance");
      }
      if (!env.empty()) {
        Json e = Json::array();
        for (const auto& kv : env) {
          auto [k, v] = keyValue(kv, "--env");
          e.push_back({{"Name", k}, {"Value", v}});
        }
        p["Environment"] = e;
      }
      ApiClient api = client();
      Json r = orDie(api.call("RunInstances", p));
      if (wait) {
        std::vector<std::string> ids;
        for (const Json& i : r["Instances"]) {
          ids.push_back(i["InstanceId"]);
        }
        r["Instances"] = waitRunning(api, ids, 120);
      }
      outcome = Outcome{r, [](const Json& j) { instancesTable(j["Instances"]); }};
    });
    auto* ls = inst->add_subcommand("ls", "list instances");
    static std::vector<std::string> lsIds;
    static bool live = false;
    ls->add_option("ID", lsIds, "instance ids (default: all)");
    ls->add_flag("--live", live, "leave out terminated instances");
    ls->callback([&] {
      Json p = Json::object();
      if (!lsIds.empty()) {
        p["InstanceIds"] = lsIds;
      }
      if (live) {
        p["Filters"] = Json::array(
            {{{"Name", "instance-state-name"},
              {"Values", {"pending", "running", "stopping", "stopped", "shutting-down"}}}});
      }
      Json r = orDie(client().call("DescribeInstances", p));
      outcome = Outcome{r, [](const Json& j) { instancesTable(allInstances(j)); }};
    });
    auto* logs = inst->add_subcommand("logs", "console output (GetConsoleOutput)");
    static std::string logsId;
    logs->add_option("ID", logsId, "instance id")->required();
    logs->callback([&] {
      Json r = orDie(client().call("GetConsoleOutput", {{"InstanceId", logsId}}));
      outcome = Outcome{r, [](const Json& j) {
                          std::string out = base64Decode(j.value("Output", "")).value_or("");
                          std::fwrite(out.data(), 1, out.size(), stdout);
                        }};
    });
    struct Change {
      const char* name;
      const char* help;
      const char* action;
      const char* list;
    };
    static const Change kChanges[] = {
        {"terminate", "terminate instances (SIGTERM, grace, SIGKILL; then removed)",
         "TerminateInstances", "TerminatingInstances"},
        {"stop", "stop instances (their files are kept)", "StopInstances", "StoppingInstances"},
        {"start", "start stopped instances", "StartInstances", "StartingInstances"},
    };
    static std::vector<std::string> changeIds[3];
    for (int k = 0; k < 3; ++k) {
      const Change& c = kChanges[k];
      auto* sub = inst->add_subcommand(c.name, c.help);
      sub->add_option("ID", changeIds[k], "instance ids")->required();
      sub->callback([&, k] {
        const Change& ch = kChanges[k];
        Json r = orDie(client().call(ch.action, {{"InstanceIds", changeIds[k]}}));
        outcome = Outcome{r, [&ch](const Json& j) {
                            Table t({"INSTANCE ID", "PREVIOUS", "CURRENT"});
                            for (const Json& i : j[ch.list]) {
                              t.add({str(i, "InstanceId"), str(i["PreviousState"], "Name"),
                                     str(i["CurrentState"], "Name")});
                            }
                            t.print();
                          }};
      });
    }
    auto* types = inst->add_subcommand("types", "instance types and their local quotas");
    types->callback([&] {
      Json r = orDie(client().call("DescribeInstanceTypes", Json::object()));
      outcome = Outcome{r, [](const Json& j) {
                          Table t({"TYPE", "AWS VCPUS", "AWS MEMORY", "LOCAL CPU (CORES)",
                                   "LOCAL MEMORY", "PIDS"});
                          for (const Json& i : j["InstanceTypes"]) {
                            char cores[16];
                            snprintf(cores, sizeof cores, "%.3g", i["LocalCpuCores"].get<double>());
                            t.add({str(i, "InstanceType"), str(i["VCpuInfo"], "DefaultVCpus"),
                                   str(i["MemoryInfo"], "SizeInMiB") + " MiB", cores,
                                   str(i, "LocalMemoryMiB") + " MiB", str(i, "LocalPidsMax")});
                          }
                          t.print();
                        }};
    });
  }

  CommandContext commands{outcome, client};
  addElbCommands(app, commands);
  addAsgCommands(app, commands);
  addLoadCommands(app, commands);
  addStackCommands(app, commands);
  addConsoleCommand(app, g.endpoint);
  addEventCommands(app, commands);
  addCertCommands(app, commands);

  // ----------------------------------------------------------------------------------- status
  auto* status = app.add_subcommand("status", "the host, its capacity and instances at a glance");
  status->callback([&] {
    ApiClient api = client();
    Json host = orDie(api.call("DescribeHost", Json::object()));
    Json instances = orDie(api.call("DescribeInstances", Json::object()));
    Json images = orDie(api.call("DescribeImages", Json::object()));
    Json groups = orDie(api.call("DescribeAutoScalingGroups", Json::object()));
    Json targetGroups = orDie(api.call("DescribeTargetGroups", Json::object()));
    // Target health of every group, and the newest activities of every Auto Scaling group.
    Json health = Json::array();
    for (const Json& tg : targetGroups["TargetGroups"]) {
      Json h = orDie(api.call("DescribeTargetHealth", {{"TargetGroupArn", tg["TargetGroupArn"]}}));
      for (Json d : h["TargetHealthDescriptions"]) {
        d["TargetGroupName"] = tg["TargetGroupName"];
        health.push_back(d);
      }
    }
    Json activities = Json::array();
    for (const Json& g : groups["AutoScalingGroups"]) {
      Json a =
          orDie(api.call("DescribeScalingActivities",
                         {{"AutoScalingGroupName", g["AutoScalingGroupName"]}, {"MaxRecords", 5}}));
      for (const Json& x : a["Activities"]) {
        activities.push_back(x);
      }
    }
    Json both = {{"Host", host["Host"]},
                 {"Reservations", instances["Reservations"]},
                 {"Images", images["Images"]},
                 {"AutoScalingGroups", groups["AutoScalingGroups"]},
                 {"TargetHealthDescriptions", health},
                 {"Activities", activities}};
    outcome = Outcome{
        both, [endpoint = api.endpoint()](const Json& j) {
          const Json& h = j["Host"];
          std::printf("tide server at %s\n", endpoint.c_str());
          std::printf("  data:     %s\n", str(h, "DataDirectory").c_str());
          std::printf("  cgroups:  %s (%s)\n", str(h, "Cgroups").c_str(),
                      str(h, "CgroupNote").c_str());
          std::printf("  disks:    %s%s%s\n", str(h, "DiskCopy").c_str(),
                      str(h, "DiskNote", "").empty() ? "" : " - ", str(h, "DiskNote", "").c_str());
          std::printf("  isolation: %s%s%s\n", str(h, "Isolation", "unknown").c_str(),
                      str(h, "IsolationNote", "").empty() ? "" : " - ",
                      str(h, "IsolationNote", "").c_str());
          if (!str(h, "Limits", "").empty()) {
            std::printf("  limits: %s\n", str(h, "Limits", "").c_str());
          }
          std::printf("  capacity: %.3g of %.3g vCPUs reserved by instances (on %d host cores)\n",
                      h.value("CpuCoresInUse", 0.0), h.value("MaxCpuCores", 0.0),
                      h.value("HostCpuCores", 0));
          std::printf("  images:   %zu\n", j["Images"].size());
          std::printf("  security groups: %s\n\n", str(h, "SecurityGroups", "unknown").c_str());
          if (!j["AutoScalingGroups"].empty()) {
            Table g({"GROUP", "MIN", "DESIRED", "MAX", "IN SERVICE"});
            for (const Json& x : j["AutoScalingGroups"]) {
              int inService = 0;
              for (const Json& i : x["Instances"]) {
                inService += i.value("LifecycleState", "") == "InService";
              }
              g.add({str(x, "AutoScalingGroupName"), str(x, "MinSize"), str(x, "DesiredCapacity"),
                     str(x, "MaxSize"), std::to_string(inService)});
            }
            g.print();
            std::printf("\n");
          }
          // Instances, with their health in the target groups.
          Json list = allInstances(j);
          for (Json& i : list) {
            for (const Json& d : j["TargetHealthDescriptions"]) {
              if (d["Target"]["Id"] == i["InstanceId"]) {
                i["Health"] = d["TargetHealth"]["State"];
              }
            }
          }
          Table t({"INSTANCE ID", "STATE", "HEALTH", "TYPE", "ADDRESS", "CPU%", "MEMORY", "GROUP"});
          for (const Json& i : list) {
            if (str(i["State"], "Name") == "terminated") {
              continue;
            }
            std::string cpu = "-";
            if (i.contains("CPUUtilization")) {
              char buf[16];
              snprintf(buf, sizeof buf, "%.1f", i["CPUUtilization"].get<double>());
              cpu = buf;
            }
            std::string group;
            for (const Json& tag : i["Tags"]) {
              if (tag["Key"] == "aws:autoscaling:groupName") {
                group = tag["Value"];
              }
            }
            t.add(
                {str(i, "InstanceId"), str(i["State"], "Name"), str(i, "Health", "-"),
                 str(i, "InstanceType"),
                 i.contains("PrivateIpAddress") ? str(i, "PrivateIpAddress") + ":" + str(i, "Port")
                                                : "-",
                 cpu, bytes(i.value("MemoryUsedBytes", int64_t(-1))), group.empty() ? "-" : group});
          }
          t.print();
          if (!j["Activities"].empty()) {
            std::printf("\nrecent activities:\n");
            for (const Json& a : j["Activities"]) {
              std::printf("  %s  %-10s %s\n    %s\n", str(a, "StartTime").substr(11, 8).c_str(),
                          str(a, "StatusCode").c_str(), str(a, "Description").c_str(),
                          str(a, "Cause").c_str());
            }
          }
        }};
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      return app.exit(e); // --help
    }
    std::fprintf(stderr, "tide: UsageError: %s (see tide --help)\n", e.what());
    return 2;
  }
  if (!outcome) {
    return 0;
  }
  if (g.output == "json") {
    std::printf("%s\n", outcome->json.dump(2).c_str());
  } else {
    outcome->table(outcome->json);
  }
  return 0;
}

} // namespace

int cliMain(int argc, char** argv) {
  // Names, values and paths go into JSON requests, which carry UTF-8 only: an argument that is
  // not UTF-8 is a usage error here rather than an exception deep in a command.
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (size_t bad = invalidUtf8Offset(arg); bad != std::string_view::npos) {
      std::fprintf(stderr,
                   "tide: UsageError: argument %d ('%s') is not valid UTF-8 (byte %zu); tide "
                   "takes names, values and paths as UTF-8 text\n",
                   i, escapeInvalidUtf8(arg).c_str(), bad);
      return 2;
    }
  }
  try {
    return runCommandLine(argc, argv);
  } catch (const std::exception& e) {
    // Commands report errors as values (die()); an exception is a bug in tide, reported as one
    // line rather than an abort.
    std::fprintf(stderr, "tide: InternalError: %s\n", escapeInvalidUtf8(e.what()).c_str());
    return 1;
  }
}

} // namespace tide::cli
