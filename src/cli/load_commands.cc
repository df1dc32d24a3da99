// `tide load URL`: drives HTTP traffic at a load balancer (or any http:// URL) following a rate
// profile, shows progress on stderr once a second and prints a summary (with --output json, the
// summary as JSON). The engine is in load.h.
#include "cli/commands.h"
#include "cli/load.h"
#include "cli/table.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <unistd.h>

namespace tide::cli {

namespace {

// The monotonic clock in milliseconds: a load test must not jump when the wall clock does.
class SteadyClock final : public Clock {
public:
  TimeMs now() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
  }
};

std::atomic<LoadGenerator*> gRunning{nullptr}; // the generator SIGINT and SIGTERM stop

extern "C" void stopOnSignal(int) {
  if (LoadGenerator* g = gRunning.load()) {
    g->stop();
  }
}

// Lets SIGINT and SIGTERM stop the generator while alive.
class StopOnSignals {
public:
  explicit StopOnSignals(LoadGenerator& g) : signals_(stopOnSignal) { gRunning.store(&g); }
  ~StopOnSignals() { gRunning.store(nullptr); }

private:
  SignalScope signals_;
};

std::string millisText(int64_t micros) {
  char buf[32];
  double ms = micros / 1000.0;
  snprintf(buf, sizeof buf, ms < 10 ? "%.2fms" : ms < 100 ? "%.1fms" : "%.0fms", ms);
  return buf;
}

std::string rateText(double r) {
  char buf[32];
  snprintf(buf, sizeof buf, r < 10 && r != int64_t(r) ? "%.1f/s" : "%.0f/s", r);
  return buf;
}

// One line of progress: the last second at a glance.
std::string progressLine(const LoadProgress& p) {
  char head[160];
  snprintf(head, sizeof head, "%4llds  target %s  achieved %s  in-flight %lld  2xx %lld",
           static_cast<long long>(p.elapsed.count() / 1000), rateText(p.targetRate).c_str(),
           rateText(p.achievedRate).c_str(), static_cast<long long>(p.inFlight),
           static_cast<long long>(p.second.status2xx));
  std::string line = head;
  auto add = [&](const char* label, int64_t n) {
    if (n) {
      line += "  " + std::string(label) + " " + std::to_string(n);
    }
  };
  add("3xx", p.second.status3xx);
  add("4xx", p.second.status4xx);
  add("5xx", p.second.status5xx);
  add("timeouts", p.second.timeouts);
  add("conn-errors", p.second.connectionErrors);
  if (p.second.finished() > p.second.timeouts + p.second.connectionErrors) {
    line += "  p50 " + millisText(p.p50Micros) + " p99 " + millisText(p.p99Micros);
  }
  line += "  instances " + std::to_string(p.instancesAnswered);
  return line;
}

double roundedMillis(int64_t micros) {
  return static_cast<double>(micros) / 1000.0;
}

double perSecond(int64_t n, Millis elapsed) {
  return elapsed.count() > 0 ? std::round(n * 10'000.0 / elapsed.count()) / 10.0 : 0.0;
}

// The summary in JSON (what --output json prints).
Json reportJson(const LoadReport& r, const LoadProfile& profile) {
  Json codes = Json::object();
  for (int s = 0; s < int(r.statusCodes.size()); ++s) {
    if (r.statusCodes[s]) {
      codes[std::to_string(s)] = r.statusCodes[s];
    }
  }
  Json instances = Json::object();
  for (const auto& [id, n] : r.instances) {
    instances[id] = n;
  }
  return {
      {"Requests", r.totals.finished()},
      {"Succeeded", r.totals.succeeded()},
      {"Failed", r.totals.failed()},
      {"Codes", codes},
      {"Timeouts", r.totals.timeouts},
      {"ConnectionErrors", r.totals.connectionErrors},
      {"Cancelled", r.cancelled},
      {"LatencyMs",
       {{"p50", roundedMillis(r.latency.percentile(0.50))},
        {"p90", roundedMillis(r.latency.percentile(0.90))},
        {"p99", roundedMillis(r.latency.percentile(0.99))},
        {"max", roundedMillis(r.latency.max())}}},
      {"Instances", instances},
      {"DurationSeconds", std::round(r.elapsed.count() / 100.0) / 10.0},
      // Both rates over the time the profile ran, not the wait for the last responses after it.
      {"OfferedRate", perSecond(r.due, std::min(r.elapsed, profile.duration()))},
      {"AchievedRate", perSecond(r.totals.succeeded(), std::min(r.elapsed, profile.duration()))},
      {"Profile", profile.toString()},
      {"Stopped", r.stopped},
  };
}

// The summary for people (from the JSON, so both views always agree).
void reportTable(const Json& j) {
  std::printf("Requests   %lld in %.1f s: offered %.1f/s, achieved %.1f/s\n",
              j["Requests"].get<long long>(), j["DurationSeconds"].get<double>(),
              j["OfferedRate"].get<double>(), j["AchievedRate"].get<double>());
  std::printf("Succeeded  %lld\n", j["Succeeded"].get<long long>());
  std::string failed;
  for (const auto& [code, n] : j["Codes"].items()) {
    if (code[0] >= '4') {
      failed += (failed.empty() ? "" : ", ") + code + " " + std::to_string(n.get<long long>());
    }
  }
  for (const char* k : {"Timeouts", "ConnectionErrors"}) {
    if (j[k].get<long long>() > 0) {
      failed += (failed.empty() ? "" : ", ") + std::to_string(j[k].get<long long>()) + " " +
                (std::string(k) == "Timeouts" ? "timeouts" : "connection errors");
    }
  }
  std::printf("Failed     %lld%s\n", j["Failed"].get<long long>(),
              failed.empty() ? "" : (" (" + failed + ")").c_str());
  std::string codes;
  for (const auto& [code, n] : j["Codes"].items()) {
    codes += (codes.empty() ? "" : ", ") + code + ": " + std::to_string(n.get<long long>());
  }
  std::printf("Codes      %s\n", codes.empty() ? "-" : codes.c_str());
  const Json& l = j["LatencyMs"];
  std::printf("Latency    p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n",
              l["p50"].get<double>(), l["p90"].get<double>(), l["p99"].get<double>(),
              l["max"].get<double>());
  if (j["Stopped"].get<bool>()) {
    std::printf("Stopped    before the end of the profile; %lld requests in flight or queued "
                "were cancelled\n",
                j["Cancelled"].get<long long>());
  }
  std::printf("\n");
  Table t({"INSTANCE", "RESPONSES", "SHARE"});
  long long answered = 0;
  for (const auto& [id, n] : j["Instances"].items()) {
    answered += n.get<long long>();
  }
  for (const auto& [id, n] : j["Instances"].items()) {
    char share[16];
    snprintf(share, sizeof share, "%.1f%%", 100.0 * n.get<long long>() / double(answered));
    t.add({id, std::to_string(n.get<long long>()), share});
  }
  t.print();
}

std::string presetHelp() {
  std::string out = "phases (steady:RATE:DURATION, ramp:FROM-TO:DURATION, step:RATE:DURATION, "
                    "comma-separated) or a preset:";
  for (const LoadPreset& p : loadPresets()) {
    out += std::string("\n  ") + p.name + ": " + p.story;
  }
  return out;
}

} // namespace

void addLoadCommands(CLI::App& app, CommandContext& ctx) {
  auto* load = app.add_subcommand(
      "load", "send HTTP traffic at a URL (a load balancer) following a rate profile, open-loop");
  static std::string url, rate, duration = "60s", profileSpec, timeout = "5s";
  static int connections = 32;
  load->add_option("URL", url, "http://HOST[:PORT]/PATH (GET)")->required();
  auto* rateOpt = load->add_option("--rate", rate, "requests per second, steady");
  auto* durationOpt =
      load->add_option("--duration", duration, "how long --rate lasts (30s, 2m, 1m30s)")
          ->capture_default_str();
  auto* profileOpt = load->add_option("--profile", profileSpec, presetHelp());
  rateOpt->excludes(profileOpt);
  durationOpt->excludes(profileOpt);
  load->add_option("--connections", connections, "most connections open at once")
      ->check(CLI::Range(1, 10'000))
      ->capture_default_str();
  load->add_option("--timeout", timeout, "a request not answered this long after it was due fails")
      ->capture_default_str();
  load->callback([&] {
    Result<LoadTarget> target = parseLoadUrl(url);
    if (!target) {
      throw CLI::ValidationError(target.status().message());
    }
    Result<LoadProfile> profile = validationError("give --rate R [--duration D] or --profile SPEC");
    if (!rate.empty()) {
      profile = steadyLoadProfile(rate, duration);
    } else if (!profileSpec.empty()) {
      profile = parseLoadProfile(profileSpec);
    }
    if (!profile) {
      throw CLI::ValidationError(profile.status().message());
    }
    Result<Millis> timeoutMs = parseLoadDuration(timeout);
    if (!timeoutMs) {
      throw CLI::ValidationError("--timeout: " + timeoutMs.status().message());
    }

    LoadOptions options{*target, *profile, connections, *timeoutMs};
    SteadyClock clock;
    LoadGenerator generator(options, clock);
    StopOnSignals stopper(generator);
    std::fprintf(stderr, "tide load: GET %s  profile %s (%.0f s, %lld requests)  %d connections\n",
                 url.c_str(), profile->toString().c_str(), profile->duration().count() / 1000.0,
                 static_cast<long long>(requestsDue(*profile, profile->duration())), connections);
    Status probe = generator.probe();
    if (!probe) {
      die(probe);
    }
    bool tty = isatty(STDERR_FILENO);
    Result<LoadReport> report = generator.run([tty](const LoadProgress& p) {
      std::string line = progressLine(p);
      if (tty) {
        std::fprintf(stderr, "\r\x1b[K%s", line.c_str());
      } else {
        std::fprintf(stderr, "%s\n", line.c_str());
      }
      std::fflush(stderr);
    });
    if (tty) {
      std::fprintf(stderr, "\n");
    }
    if (!report) {
      die(report.status());
    }
    ctx.outcome = Outcome{reportJson(*report, *profile), reportTable};
  });
}

} // namespace tide::cli
