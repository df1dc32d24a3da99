// What AWS clients rely on around every action, kept out of the handlers: DryRun (the request
// is performed in transactions that are all rolled back, and answers DryRunOperation when it
// would have succeeded) and ClientToken idempotency (a retried request with the same token and
// parameters gets the first result; other parameters get IdempotentParameterMismatch).
#pragma once

#include "api/action.h"
#include "store/store.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace tide::api {

// A Store whose transactions run against the real one and are always rolled back, and which
// wakes no listener: the handler sees its own checks and reads as they would be, and nothing
// changes. (A handler's second transaction does not see its first one's writes.)
class DryRunStore final : public store::Store {
public:
  explicit DryRunStore(store::Store& real) : real_(real) {}
  Status transact(const std::function<Status(store::Tx&)>& fn, bool notify = true) override;
  uint64_t writeCommits() const override { return real_.writeCommits(); }
  void onChange(std::function<void(const store::ChangeSet&)>) override {}

private:
  store::Store& real_;
};

// The results of requests that carried a ClientToken, by service, action and token, for
// `retention` (AWS keeps tokens for at least a day); bounded in number, the oldest forgotten
// first. In memory: a restarted server does not recognise tokens from before. Thread-safe.
class IdempotencyCache {
public:
  explicit IdempotencyCache(Millis retention = Millis(24 * 3600 * 1000), size_t maxEntries = 10000)
      : retention_(retention), maxEntries_(maxEntries) {}

  // The first result for this token, or nullopt when the token is new. A token seen with other
  // parameters is IdempotentParameterMismatch.
  Result<std::optional<Json>> find(const std::string& key, const Json& params, TimeMs now);
  void remember(const std::string& key, const Json& params, const Json& result, TimeMs now);

private:
  struct Entry {
    std::string paramsDump;
    Json result;
    TimeMs at;
  };
  Millis retention_;
  size_t maxEntries_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

// Runs `run` (the handler) with DryRun and ClientToken applied: with DryRun true, against a
// DryRunStore (and no address claims), answering DryRunOperation on success; with a ClientToken
// and ctx.idempotency set, answering a retry with the first result.
Result<Json> withRequestSemantics(ActionContext& ctx, std::string_view service,
                                  std::string_view action, Json params,
                                  const std::function<Result<Json>(ActionContext&, Json)>& run);

} // namespace tide::api
