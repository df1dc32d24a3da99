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

#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tide::operations {
class AddressSource;
} // namespace tide::operations

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
  // Whether the balancer can listen on ip:port now (CreateListener and ModifyListener ask
  // before they store a port): ok, or InvalidConfigurationRequest saying why not (a privileged
  // port without root or CAP_NET_BIND_SERVICE, another program there).
  virtual Status canListen(const std::string& ip, int port) = 0;
  // The uid owning the client's end of a TCP connection from this machine (peer as in
  // HttpRequest::peer), for reading image sources with the caller's rights; nullopt when it
  // cannot be known.
  virtual std::optional<uint32_t> callerUid(const std::string& peer) {
    (void)peer;
    return std::nullopt;
  }
};

struct ApiLimits {
  double maxCpuCores = 8.0;         // sum of the CPU quotas of instances not terminated; past it
                                    // RunInstances fails with InsufficientInstanceCapacity
  int maxInstancesPerRequest = 500; // MaxCount above this is refused
};

class ActionTable;
class IdempotencyCache;
struct AuthConfig;

struct ActionContext {
  store::Store& store;
  const Clock& clock;
  HostView& host;
  ApiLimits limits;
  metrics::MetricStore* metrics = nullptr;        // CloudWatch's time series; null: none kept
  const ActionTable* actions = nullptr;           // what requests are dispatched through; null:
                                                  // api's own actions only
  operations::AddressSource* addresses = nullptr; // where RunInstances puts private addresses;
                                                  // null: all of 127.1.0.0/16, unprobed
  operations::AddressSource* loadBalancerAddresses = nullptr; // where CreateLoadBalancer finds
                                                              // own addresses; null: all of
                                                              // 127.2.0.0/16, unprobed
  // The request's region (its signature's scope; the server's default when unsigned) and the
  // account tide reports: what new ARNs and availability zones are named with. The dispatcher
  // sets region per request.
  std::string region = "us-east-1";
  std::string accountId = "000000000000";
  IdempotencyCache* idempotency = nullptr; // ClientToken results; null: tokens not remembered
  const AuthConfig* auth = nullptr;        // who may call; null: no check (the actions' tests)
  bool sessionCaller = false; // the request was signed with temporary credentials (set per
                              // request by the dispatcher)
  std::string defaultRegion = "us-east-1"; // the region of unsigned requests (--auth none)
  std::string peer;    // the request's peer ("127.0.0.1:54321"), set per request; "" in-process
  std::string dataDir; // the server's data directory: images of it (or above it) are refused
};

using ActionHandler = Result<Json> (*)(ActionContext& ctx, const Json& params);

struct ActionEntry {
  std::string_view name;    // "RunInstances"
  std::string_view service; // "ec2", "tide"
  ActionHandler handler;
};

// api's own actions, by name. Adding an action is adding a row (see actions_*.cc).
std::span<const ActionEntry> actionTable();
// One of api's own actions, or nullptr (the first of that name when services share it).
const ActionEntry* findAction(std::string_view name);

// The actions a server answers: api's own and the rows other modules add (the stacks module's
// CloudFormation actions) without api depending on them; the server builds it and points
// ActionContext::actions at it. Immutable once built.
class ActionTable {
public:
  // api's own actions, then the rows of each of `extra` (each span must outlive the table).
  // A (service, name) given twice is a programming error (asserted); services may share names
  // (EC2, ELBv2 and Auto Scaling each have a DescribeTags).
  explicit ActionTable(std::initializer_list<std::span<const ActionEntry>> extra = {});

  // The action called `name` (the first row of that name), or nullptr.
  const ActionEntry* find(std::string_view name) const;
  // The service's action called `name`, or nullptr.
  const ActionEntry* find(std::string_view service, std::string_view name) const;
  std::span<const ActionEntry> entries() const { return entries_; }

private:
  std::vector<ActionEntry> entries_;
};

} // namespace tide::api
