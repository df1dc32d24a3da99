// The action layer: one table maps AWS action names to handlers. Handlers take the request's
// parameters as JSON (AWS parameter names) and return the response in the AWS shape, or a
// Status carrying the AWS error code. Encoding (JSON over HTTP today; the AWS query/XML
// protocols and SigV4 later) lives apart, in dispatch.h.
//
// Handlers run on the control thread and change state only through Store transactions:
// a request that fails changes nothing.
#pragma once

#include "common/clock.h"
#include "common/status.h"
#include "metrics/series.h"
#include "store/store.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tide::api {

using Json = nlohmann::json;

// What the actions need from the machine without depending on the runtime module: the server
// wires an implementation.
class HostView {
public:
  virtual ~HostView() = default;
  // The console output of an instance (the last `maxBytes` of it). Empty when none yet.
  virtual Result<std::string> consoleOutput(const std::string& instanceId, size_t maxBytes) = 0;
  // The instance's own copy of its image's files (the app's working directory); empty when it
  // has none (pending or terminated).
  virtual std::string instanceDirectory(const std::string& instanceId) = 0;
  // What the host can do and has in use, for DescribeHost (tide's own action).
  virtual Json describe() = 0;
  // The instance's latest CPU and memory reading (kept in memory, never in the store); nullopt
  // when there is none (not running, or not sampled yet).
  virtual std::optional<model::InstanceUsage> instanceUsage(const std::string& instanceId) = 0;
};

struct ApiLimits {
  double maxCpuCores = 8.0;         // sum of the CPU quotas of instances not terminated; past it
                                    // RunInstances fails with InsufficientInstanceCapacity
  int maxInstancesPerRequest = 500; // MaxCount above this is refused
};

struct ActionContext {
  store::Store& store;
  const Clock& clock;
  HostView& host;
  ApiLimits limits;
  metrics::MetricStore* metrics = nullptr; // CloudWatch's time series; null: none kept
};

using ActionHandler = Result<Json> (*)(ActionContext& ctx, const Json& params);

struct ActionEntry {
  std::string_view name;    // "RunInstances"
  std::string_view service; // "ec2", "tide"
  ActionHandler handler;
};

// Every action, by name. Adding an action is adding a row (see actions_*.cc).
std::span<const ActionEntry> actionTable();
const ActionEntry* findAction(std::string_view name);

} // namespace tide::api
