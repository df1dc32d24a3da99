#include "stacks/engine.h"

#include "common/crash_point.h"
#include "common/log.h"
#include "common/text.h"
#include "stacks/events.h"
#include "stacks/intrinsics.h"
#include "stacks/resources.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace tide::stacks {

namespace {

bool complete(const std::string& status) {
  return status == "CREATE_COMPLETE" || status == "UPDATE_COMPLETE";
}

// One stack's step: the record as it evolves, written back after every change.
class StackRun {
public:
  StackRun(ActionContext& ctx, model::Stack stack)
      : ctx_(ctx), saved_(stack), s_(std::move(stack)) {}

  // Returns whether the stack waits on something outside it.
  Result<bool> advance() {
    auto t = parseTemplate(s_.templateBody);
    if (!t) {
      // Cannot happen for a template the actions accepted; say so instead of spinning.
      s_.stackStatus = failedStatus(s_.stackStatus);
      s_.stackStatusReason = "the stored template does not parse: " + t.status().toString();
      TIDE_RETURN_IF_ERROR(save());
      return false;
    }
    t_ = std::move(*t);
    if (t_.document.contains("Metadata") && t_.document["Metadata"].is_object()) {
      basePath_ = t_.document["Metadata"].value("Tide::TemplateBasePath", "");
    }
    const std::string& st = s_.stackStatus;
    if (st == "DELETE_IN_PROGRESS" || st == "ROLLBACK_IN_PROGRESS") {
      return removeAll();
    }
    if (st == "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS" ||
        st == "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS") {
      return cleanup();
    }
    if (st == "UPDATE_IN_PROGRESS" || st == "UPDATE_ROLLBACK_IN_PROGRESS") {
      std::string before = st;
      auto r = removeMarked();
      if (!r || *r || s_.stackStatus != before) {
        return r;
      }
    }
    return forward();
  }

private:
  model::StackResource* entry(const std::string& logicalId) {
    for (auto& r : s_.resources) {
      if (r.logicalResourceId == logicalId) {
        return &r;
      }
    }
    return nullptr;
  }

  // The status a stack in progress ends in when it cannot go on at all.
  static std::string failedStatus(const std::string& status) {
    if (status == "DELETE_IN_PROGRESS") {
      return "DELETE_FAILED";
    }
    if (status == "ROLLBACK_IN_PROGRESS" || status == "CREATE_IN_PROGRESS") {
      return "ROLLBACK_FAILED";
    }
    // A resource that cleanup could not delete stays listed (DELETE_FAILED; the next update
    // tries again); the update itself is done.
    if (status == "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS") {
      return "UPDATE_COMPLETE";
    }
    if (status == "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS") {
      return "UPDATE_ROLLBACK_COMPLETE";
    }
    return "UPDATE_ROLLBACK_FAILED";
  }

  // Writes the record with an event per status change since the last write. A stack that
  // reaches a final status ends the change set it executes, if any. With `via`, the record
  // passes through that state first, in the same transaction (its events recorded, its state
  // never seen alone).
  Status save(model::Stack* via = nullptr) {
    if (!s_.stackStatus.ends_with("_IN_PROGRESS") && !s_.executingChangeSet.empty()) {
      bool good = stackSucceeded(s_.stackStatus);
      for (auto& cs : s_.changeSets) {
        if (cs.changeSetId == s_.executingChangeSet) {
          cs.executionStatus = good ? "EXECUTE_COMPLETE" : "EXECUTE_FAILED";
        }
      }
      s_.executingChangeSet.clear();
    }
    TIDE_RETURN_IF_ERROR(ctx_.store.transact([&](store::Tx& tx) -> Status {
      if (via) {
        TIDE_RETURN_IF_ERROR(putStackWithEvents(tx, &saved_, *via, ctx_.clock.now()));
      }
      return putStackWithEvents(tx, via ? via : &saved_, s_, ctx_.clock.now());
    }));
    saved_ = s_;
    return Status::ok();
  }

  ResourceCall call(const std::string& logicalId) {
    return ResourceCall{ctx_, s_.stackName, s_.stackId, logicalId, basePath_};
  }

  ResolveScope scope() {
    ResolveScope sc;
    sc.tmpl = &t_;
    sc.parameters = s_.parameters;
    sc.stackName = s_.stackName;
    sc.stackId = s_.stackId;
    sc.ref = [this](const std::string& id) -> Result<Json> {
      model::StackResource* e = entry(id);
      if (!e || e->physicalResourceId.empty()) {
        return validationError("resource " + id + " is not created yet");
      }
      return Json(e->physicalResourceId);
    };
    sc.getAtt = [this](const std::string& id, const std::string& attr) -> Result<Json> {
      model::StackResource* e = entry(id);
      const ResourceType* type = e ? findResourceType(e->resourceType) : nullptr;
      if (!e || e->physicalResourceId.empty() || !type || !type->attribute) {
        return validationError("resource " + id + " is not created yet");
      }
      return type->attribute(ctx_, e->physicalResourceId, attr);
    };
    return sc;
  }

  Result<Json> properties(const TemplateResource& r) {
    TIDE_ASSIGN_OR_RETURN(
        auto v, resolveValue(r.properties, scope(), "Resources." + r.logicalId + ".Properties"));
    return v.value_or(Json::object());
  }

  // A resource failed: a creation rolls back (deleting everything), an update rolls back to
  // the template and parameters before it, a failed rollback stops.
  Result<bool> fail(const std::string& logicalId, const Status& why) {
    const std::string status = s_.stackStatus;
    if (model::StackResource* e = entry(logicalId)) {
      e->resourceStatus = e->resourceStatus == "UPDATE_IN_PROGRESS"   ? "UPDATE_FAILED"
                          : e->resourceStatus == "DELETE_IN_PROGRESS" ? "DELETE_FAILED"
                                                                      : "CREATE_FAILED";
      e->resourceStatusReason = why.toString();
    }
    s_.stackStatusReason = "Resource " + logicalId + ": " + why.toString();
    logInfo("stack " + s_.stackName + ": " + s_.stackStatusReason);
    if (status == "CREATE_IN_PROGRESS") {
      s_.stackStatus = "ROLLBACK_IN_PROGRESS";
      TIDE_RETURN_IF_ERROR(save());
      return true;
    }
    if (status == "UPDATE_IN_PROGRESS") {
      s_.stackStatus = "UPDATE_ROLLBACK_IN_PROGRESS";
      return rollBackUpdate();
    }
    s_.stackStatus = failedStatus(status);
    TIDE_RETURN_IF_ERROR(save());
    return false;
  }

  // UPDATE_ROLLBACK_IN_PROGRESS begins: the stack takes the template and parameters it had
  // before the update again, with its resources marked for the way back (planStackUpdate from
  // the failed template to the previous one); the same steps as an update then carry it out.
  // The failure and the plan back are written in one transaction, so that a restart never
  // finds the stack rolling back with the failed template.
  Result<bool> rollBackUpdate() {
    model::Stack failed = s_;
    auto previous = parseTemplate(s_.previousTemplateBody);
    Result<std::vector<model::StackResource>> plan =
        previous ? planStackUpdate(s_, t_, *previous, s_.previousParameters)
                 : Result<std::vector<model::StackResource>>(previous.status());
    if (!plan) {
      s_.stackStatus = "UPDATE_ROLLBACK_FAILED";
      s_.stackStatusReason = "cannot roll back: " + plan.status().toString();
      TIDE_RETURN_IF_ERROR(save(&failed));
      return false;
    }
    s_.templateBody = s_.previousTemplateBody;
    s_.submittedTemplateBody = s_.previousSubmittedTemplateBody;
    s_.parameters = s_.previousParameters;
    s_.resources = std::move(*plan);
    TIDE_RETURN_IF_ERROR(save(&failed));
    return true; // the next step carries the rollback out
  }

  // *_CLEANUP_IN_PROGRESS: whatever is still marked for deletion goes, then the update (or its
  // rollback) is complete.
  Result<bool> cleanup() {
    auto r = removeMarked();
    if (!r || *r || !s_.stackStatus.ends_with("CLEANUP_IN_PROGRESS")) {
      return r;
    }
    bool rollback = s_.stackStatus == "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS";
    s_.stackStatus = rollback ? "UPDATE_ROLLBACK_COMPLETE" : "UPDATE_COMPLETE";
    if (!rollback) {
      s_.stackStatusReason = "";
    }
    s_.previousTemplateBody.clear();
    s_.previousSubmittedTemplateBody.clear();
    s_.previousParameters.clear();
    TIDE_RETURN_IF_ERROR(save());
    return false;
  }

  // Creates, waits for and updates resources in dependency order; completes the stack.
  Result<bool> forward() {
    bool waiting = false;
    for (const std::string& id : t_.creationOrder) {
      const TemplateResource& r = *t_.resource(id);
      const ResourceType& type = *findResourceType(r.type);
      model::StackResource* e = entry(id);
      if (e && complete(e->resourceStatus)) {
        continue;
      }
      bool ready = std::all_of(r.dependencies.begin(), r.dependencies.end(), [&](const auto& d) {
        model::StackResource* de = entry(d);
        return de && complete(de->resourceStatus);
      });
      if (!ready) {
        continue;
      }
      bool fresh = e == nullptr;
      if (fresh) {
        s_.resources.push_back({id, r.type, "", "CREATE_IN_PROGRESS", ""});
        TIDE_RETURN_IF_ERROR(save());
        e = entry(id);
      }
      if (e->resourceStatus == "UPDATE_IN_PROGRESS") {
        auto props = properties(r);
        if (!props) {
          return fail(id, props.status());
        }
        ResourceCall c = call(id);
        TIDE_CRASH_POINT("stack.resource.update");
        Status u = type.update ? type.update(c, e->physicalResourceId, *props)
                               : internalError("no in-place update for " + r.type);
        if (!u.isOk()) {
          return fail(id, u);
        }
        e->resourceStatus = "UPDATE_COMPLETE";
        e->resourceStatusReason = "";
        TIDE_RETURN_IF_ERROR(save());
        continue;
      }
      if (e->physicalResourceId.empty()) {
        auto props = properties(r);
        if (!props) {
          return fail(id, props.status());
        }
        ResourceCall c = call(id);
        if (!fresh && type.find) { // after a restart between the action and its record
          auto found = type.find(c, *props);
          if (found && *found) {
            if (type.finishCreate) {
              Status done = type.finishCreate(c, **found, *props);
              if (!done.isOk()) {
                return fail(id, done);
              }
            }
            e->physicalResourceId = **found;
          }
        }
        if (e->physicalResourceId.empty()) {
          TIDE_CRASH_POINT("stack.resource.create.before");
          auto made = type.create(c, *props);
          if (!made) {
            return fail(id, made.status());
          }
          TIDE_CRASH_POINT("stack.resource.create.after");
          e->physicalResourceId = *made;
        }
        TIDE_RETURN_IF_ERROR(save());
      }
      if (type.ready) {
        auto ok = type.ready(ctx_, e->physicalResourceId);
        if (!ok) {
          return fail(id, ok.status());
        }
        if (!*ok) {
          waiting = true;
          continue;
        }
      }
      e->resourceStatus = "CREATE_COMPLETE";
      e->resourceStatusReason = "";
      TIDE_RETURN_IF_ERROR(save());
    }
    for (const std::string& id : t_.creationOrder) {
      model::StackResource* e = entry(id);
      if (!e || !complete(e->resourceStatus)) {
        return waiting;
      }
    }
    std::vector<model::StackOutput> outputs;
    for (const TemplateOutput& o : t_.outputs) {
      auto v = resolveValue(o.value, scope(), "Outputs." + o.key + ".Value");
      if (!v) {
        return fail("Outputs." + o.key, v.status());
      }
      Json value = v->value_or(Json(""));
      outputs.push_back(
          {o.key, value.is_string() ? value.get<std::string>() : value.dump(), o.description});
    }
    s_.outputs = outputs;
    if (s_.stackStatus == "CREATE_IN_PROGRESS") {
      s_.stackStatus = "CREATE_COMPLETE";
      s_.stackStatusReason = "";
      TIDE_RETURN_IF_ERROR(save());
      return false;
    }
    bool rollback = s_.stackStatus == "UPDATE_ROLLBACK_IN_PROGRESS";
    s_.stackStatus = rollback ? "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
                              : "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS";
    if (!rollback) {
      s_.stackStatusReason = "";
    }
    TIDE_RETURN_IF_ERROR(save());
    return cleanup();
  }

  // Entries in deletion order: those the template no longer has (newest first), then the
  // template's in reverse dependency order.
  std::vector<std::string> deletionOrder() {
    std::vector<std::string> out;
    for (auto it = s_.resources.rbegin(); it != s_.resources.rend(); ++it) {
      if (!t_.resource(it->logicalResourceId)) {
        out.push_back(it->logicalResourceId);
      }
    }
    for (auto it = t_.creationOrder.rbegin(); it != t_.creationOrder.rend(); ++it) {
      if (entry(*it)) {
        out.push_back(*it);
      }
    }
    return out;
  }

  // Deletes one entry. Returns true when it is gone.
  Result<bool> removeOne(model::StackResource& e) {
    const ResourceType* type = findResourceType(e.resourceType);
    if (e.physicalResourceId.empty() && type && type->find &&
        e.resourceStatus == "CREATE_IN_PROGRESS") {
      if (const TemplateResource* r = t_.resource(e.logicalResourceId)) {
        auto props = properties(*r);
        ResourceCall c = call(e.logicalResourceId);
        auto found = props ? type->find(c, *props)
                           : Result<std::optional<std::string>>(std::optional<std::string>());
        if (found && *found) {
          e.physicalResourceId = **found;
        }
      }
    }
    if (e.physicalResourceId.empty() || !type) {
      return true;
    }
    if (e.resourceStatus != "DELETE_IN_PROGRESS") {
      e.resourceStatus = "DELETE_IN_PROGRESS";
      e.resourceStatusReason = "";
      TIDE_RETURN_IF_ERROR(save());
    }
    TIDE_CRASH_POINT("stack.resource.delete");
    return type->remove(ctx_, e.physicalResourceId);
  }

  // DELETE_IN_PROGRESS and ROLLBACK_IN_PROGRESS: every resource, one at a time.
  Result<bool> removeAll() {
    bool deleting = s_.stackStatus == "DELETE_IN_PROGRESS";
    for (const std::string& id : deletionOrder()) {
      model::StackResource* e = entry(id);
      if (e->resourceStatus == "DELETE_COMPLETE") {
        continue;
      }
      auto gone = removeOne(*e);
      if (!gone) {
        e->resourceStatus = "DELETE_FAILED";
        e->resourceStatusReason = gone.status().toString();
        s_.stackStatus = deleting ? "DELETE_FAILED" : "ROLLBACK_FAILED";
        s_.stackStatusReason = "Resource " + id + ": " + gone.status().toString();
        TIDE_RETURN_IF_ERROR(save());
        return false;
      }
      if (!*gone) {
        return true;
      }
      e->resourceStatus = "DELETE_COMPLETE";
      e->resourceStatusReason = "";
      TIDE_RETURN_IF_ERROR(save());
    }
    if (deleting) {
      s_.stackStatus = "DELETE_COMPLETE";
      s_.deletionTime = ctx_.clock.now();
      s_.outputs.clear();
      TIDE_RETURN_IF_ERROR(save()); // leaves the live stacks for the deleted ones
      logInfo("stack " + s_.stackName + " deleted");
      return false;
    }
    s_.stackStatus = "ROLLBACK_COMPLETE";
    s_.outputs.clear();
    TIDE_RETURN_IF_ERROR(save());
    return false;
  }

  // UPDATE_IN_PROGRESS, first: the resources removed from the template or to be replaced.
  Result<bool> removeMarked() {
    for (const std::string& id : deletionOrder()) {
      model::StackResource* e = entry(id);
      if (e->resourceStatus != "DELETE_IN_PROGRESS") {
        continue;
      }
      auto gone = removeOne(*e);
      if (!gone) {
        return fail(id, gone.status());
      }
      if (!*gone) {
        return true;
      }
      std::erase_if(s_.resources,
                    [&](const model::StackResource& r) { return r.logicalResourceId == id; });
      TIDE_RETURN_IF_ERROR(save());
    }
    return false;
  }

  ActionContext& ctx_;
  model::Stack saved_; // the record as last written
  model::Stack s_;
  Template t_;
  std::string basePath_;
};

} // namespace

Result<bool> StackEngine::step(ActionContext& ctx) {
  std::vector<model::Stack> stacks;
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto all, tx.stacks());
        stacks = std::move(all);
        return Status::ok();
      },
      false));
  bool waiting = false;
  for (model::Stack& s : stacks) {
    if (!s.stackStatus.ends_with("_IN_PROGRESS") || s.stackStatus == "REVIEW_IN_PROGRESS") {
      continue; // settled, or waiting for a change set to be executed
    }
    std::string name = s.stackName;
    // What the stack makes is named with its own region (its id's), whoever steps it.
    std::string region = arnField(s.stackId, 3);
    std::string before = std::exchange(ctx.region, region.empty() ? ctx.region : region);
    Result<bool> r = StackRun(ctx, std::move(s)).advance();
    ctx.region = before;
    if (!r) {
      // One stack's failure (a store error) does not hold back the others; it is tried again
      // at the next step, soon.
      logError("stack " + name + ": " + r.status().toString());
      waiting = true;
      continue;
    }
    waiting = waiting || *r;
  }
  return waiting;
}

bool stackSucceeded(const std::string& status) {
  return status == "CREATE_COMPLETE" || status == "UPDATE_COMPLETE";
}

Result<std::vector<model::StackResource>>
planStackUpdate(const model::Stack& stack, const Template& old, const Template& next,
                const std::vector<model::StackParameter>& nextParameters) {
  if (old.document == next.document && stack.parameters == nextParameters) {
    return validationError("No updates are to be performed.");
  }
  enum class Change { Same, Modify, Replace };
  std::map<std::string, Change> change;
  std::vector<model::StackResource> out = stack.resources;
  auto entryOf = [&](const std::string& id) -> model::StackResource* {
    for (auto& r : out) {
      if (r.logicalResourceId == id) {
        return &r;
      }
    }
    return nullptr;
  };
  for (const std::string& id : next.creationOrder) {
    const TemplateResource& nr = *next.resource(id);
    const TemplateResource* orr = old.resource(id);
    model::StackResource* e = entryOf(id);
    const ResourceType& type = *findResourceType(nr.type);
    if (!e || e->physicalResourceId.empty()) {
      change[id] = Change::Replace; // made afresh
      if (e) {
        std::erase_if(out, [&](const auto& r) { return r.logicalResourceId == id; });
      }
      continue;
    }
    bool broken = e->resourceStatus == "CREATE_FAILED" || e->resourceStatus == "DELETE_FAILED" ||
                  e->resourceStatus == "DELETE_IN_PROGRESS" ||
                  e->resourceStatus == "CREATE_IN_PROGRESS";
    if (!orr || orr->type != nr.type || broken) {
      change[id] = Change::Replace;
      e->resourceStatus = "DELETE_IN_PROGRESS";
      continue;
    }
    Json before = substituteParameters(orr->properties, old, stack.parameters);
    Json after = substituteParameters(nr.properties, next, nextParameters);
    std::set<std::string> keys;
    for (auto it = after.begin(); it != after.end(); ++it) {
      if (!before.contains(it.key()) || before[it.key()] != it.value()) {
        keys.insert(it.key());
      }
      for (const auto& [res, attr] : referencedResources(it.value(), next)) {
        Change c = change.count(res) ? change[res] : Change::Same;
        if (c == Change::Replace || (c == Change::Modify && !attr.empty())) {
          keys.insert(it.key());
        }
      }
    }
    for (auto it = before.begin(); it != before.end(); ++it) {
      if (!after.contains(it.key())) {
        keys.insert(it.key());
      }
    }
    bool retry = e->resourceStatus == "UPDATE_FAILED" || e->resourceStatus == "UPDATE_IN_PROGRESS";
    if (keys.empty() && !(retry && type.update)) {
      change[id] = Change::Same;
      continue;
    }
    bool inPlace = type.update != nullptr;
    for (const std::string& k : keys) {
      const PropertySpec* p = findProperty(type, k);
      inPlace = inPlace && p && p->updatable;
    }
    change[id] = inPlace ? Change::Modify : Change::Replace;
    e->resourceStatus = inPlace ? "UPDATE_IN_PROGRESS" : "DELETE_IN_PROGRESS";
    e->resourceStatusReason =
        inPlace ? "" : "Requested update requires the creation of a new physical resource";
  }
  for (auto& e : out) {
    if (!next.resource(e.logicalResourceId)) {
      e.resourceStatus = e.physicalResourceId.empty() ? "DELETE_COMPLETE" : "DELETE_IN_PROGRESS";
    }
  }
  std::erase_if(out, [](const auto& r) { return r.resourceStatus == "DELETE_COMPLETE"; });
  return out;
}

} // namespace tide::stacks
