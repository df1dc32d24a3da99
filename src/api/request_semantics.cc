#include "api/request_semantics.h"

namespace tide::api {

namespace {
constexpr const char* kRollback = "DryRunRollback";
} // namespace

Status DryRunStore::transact(const std::function<Status(store::Tx&)>& fn, bool) {
  Status inner;
  Status outer = real_.transact(
      [&](store::Tx& tx) -> Status {
        inner = fn(tx);
        return inner.isOk() ? Status(kRollback, "a dry run changes nothing") : inner;
      },
      false);
  if (!inner.isOk()) {
    return inner;
  }
  return outer.code() == kRollback ? Status::ok() : outer;
}

Result<std::optional<Json>> IdempotencyCache::find(const std::string& key, const Json& params,
                                                   TimeMs now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || now - it->second.at > retention_.count()) {
    return std::optional<Json>();
  }
  if (it->second.paramsDump != params.dump()) {
    return Status("IdempotentParameterMismatch",
                  "The client token was used before with other parameters: a new request needs "
                  "a new ClientToken");
  }
  return std::optional<Json>(it->second.result);
}

void IdempotencyCache::remember(const std::string& key, const Json& params, const Json& result,
                                TimeMs now) {
  std::lock_guard lock(mu_);
  if (entries_.size() >= maxEntries_ && !entries_.contains(key)) {
    auto oldest = entries_.begin();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->second.at < oldest->second.at) {
        oldest = it;
      }
    }
    entries_.erase(oldest);
  }
  entries_[key] = Entry{params.dump(), result, now};
}

Result<Json> withRequestSemantics(ActionContext& ctx, std::string_view service,
                                  std::string_view action, Json params,
                                  const std::function<Result<Json>(ActionContext&, Json)>& run) {
  bool dryRun = false;
  if (auto dry = params.find("DryRun");
      service == "ec2" && dry != params.end() && dry->is_boolean()) {
    dryRun = dry->get<bool>();
    params.erase(dry);
  }
  if (dryRun) {
    DryRunStore store(ctx.store);
    ActionContext dry{store, ctx.clock, ctx.host, ctx.limits};
    dry.metrics = nullptr; // CloudWatch's series are not transactional: a dry run keeps none
    dry.actions = ctx.actions;
    dry.addresses = nullptr; // no host-wide address claims
    dry.region = ctx.region;
    dry.accountId = ctx.accountId;
    TIDE_RETURN_IF_ERROR(run(dry, std::move(params)).status());
    return Status("DryRunOperation", "Request would have succeeded, but DryRun flag is set.");
  }
  std::string key;
  if (auto token = params.find("ClientToken"); ctx.idempotency != nullptr &&
                                               token != params.end() && token->is_string() &&
                                               !token->get<std::string>().empty()) {
    key = std::string(service) + "/" + std::string(action) + "/" + token->get<std::string>();
    TIDE_ASSIGN_OR_RETURN(auto first, ctx.idempotency->find(key, params, ctx.clock.now()));
    if (first) {
      return std::move(*first);
    }
  }
  Json kept = key.empty() ? Json() : params;
  TIDE_ASSIGN_OR_RETURN(Json result, run(ctx, std::move(params)));
  if (!key.empty()) {
    ctx.idempotency->remember(key, kept, result, ctx.clock.now());
  }
  return result;
}

} // namespace tide::api
