// CreateTags, DeleteTags and DescribeTags over every EC2 resource tide keeps.
//
// Each resource keeps its own tags in its own row (as instances and images always have), so
// Describe* of each resource shows them without a join; this file is the one table that knows,
// by id prefix, where each kind's tags are.
#include "api/handlers.h"
#include "api/network_shapes.h"
#include "api/params.h"

#include <algorithm>

namespace tide::api {

namespace {

using model::Tag;
using Tags = std::vector<Tag>;

// One taggable kind of resource: how its ids start, its EC2 resource type, its not-found error,
// and how to read and write its tags.
struct TaggableKind {
  std::string_view prefix;       // "sg-"
  std::string_view resourceType; // "security-group", as DescribeTags and filters name it
  const char* notFoundCode;      // "InvalidGroup.NotFound"
  // The resource's tags; nullopt when there is no such resource.
  Result<std::optional<Tags>> (*get)(store::Tx& tx, const std::string& id);
  // Replaces its tags (the resource exists).
  Status (*set)(store::Tx& tx, const std::string& id, const Tags& tags);
  // Every resource of the kind: (id, tags), in its Describe order.
  Result<std::vector<std::pair<std::string, Tags>>> (*all)(store::Tx& tx);
};

// The three functions of a kind whose rows are read by id (get), listed (list) and written
// (put), with `tags` and `id` its members.
template <typename T, auto Get, auto List, auto Put, auto IdOf> struct Rows {
  static Result<std::optional<Tags>> get(store::Tx& tx, const std::string& id) {
    TIDE_ASSIGN_OR_RETURN(std::optional<T> v, (tx.*Get)(id));
    return v ? std::optional<Tags>(v->tags) : std::optional<Tags>();
  }
  static Status set(store::Tx& tx, const std::string& id, const Tags& tags) {
    TIDE_ASSIGN_OR_RETURN(std::optional<T> v, (tx.*Get)(id));
    v->tags = tags;
    return (tx.*Put)(*v);
  }
  static Result<std::vector<std::pair<std::string, Tags>>> all(store::Tx& tx) {
    TIDE_ASSIGN_OR_RETURN(std::vector<T> vs, List(tx));
    std::vector<std::pair<std::string, Tags>> out;
    for (const T& v : vs) {
      out.emplace_back(IdOf(v), v.tags);
    }
    return out;
  }
};

template <typename R>
constexpr TaggableKind kind(std::string_view prefix, std::string_view type, const char* code) {
  return {prefix, type, code, &R::get, &R::set, &R::all};
}

using InstanceRows =
    Rows<model::Instance, &store::Tx::instance, [](store::Tx& tx) { return tx.instances(); },
         &store::Tx::putInstance, [](const model::Instance& v) { return v.instanceId; }>;
using ImageRows = Rows<model::Image, &store::Tx::image, [](store::Tx& tx) { return tx.images(); },
                       &store::Tx::putImage, [](const model::Image& v) { return v.imageId; }>;
using LaunchTemplateRows =
    Rows<model::LaunchTemplate, &store::Tx::launchTemplate,
         [](store::Tx& tx) { return tx.launchTemplates(); }, &store::Tx::putLaunchTemplate,
         [](const model::LaunchTemplate& v) { return v.launchTemplateId; }>;
using SecurityGroupRows =
    Rows<model::SecurityGroup, &store::Tx::securityGroup,
         [](store::Tx& tx) { return tx.securityGroups(""); }, &store::Tx::putSecurityGroup,
         [](const model::SecurityGroup& v) { return v.groupId; }>;
using VpcRows = Rows<model::Vpc, &store::Tx::vpc, [](store::Tx& tx) { return tx.vpcs(); },
                     &store::Tx::putVpc, [](const model::Vpc& v) { return v.vpcId; }>;
using SubnetRows =
    Rows<model::Subnet, &store::Tx::subnet, [](store::Tx& tx) { return tx.subnets(""); },
         &store::Tx::putSubnet, [](const model::Subnet& v) { return v.subnetId; }>;
using KeyPairRows =
    Rows<model::KeyPair, &store::Tx::keyPair, [](store::Tx& tx) { return tx.keyPairs(); },
         &store::Tx::putKeyPair, [](const model::KeyPair& v) { return v.keyPairId; }>;

const TaggableKind kTaggable[] = {
    kind<InstanceRows>("i-", "instance", "InvalidInstanceID.NotFound"),
    kind<ImageRows>("ami-", "image", "InvalidAMIID.NotFound"),
    kind<LaunchTemplateRows>("lt-", "launch-template", "InvalidLaunchTemplateId.NotFound"),
    kind<SecurityGroupRows>("sg-", "security-group", "InvalidGroup.NotFound"),
    kind<VpcRows>("vpc-", "vpc", "InvalidVpcID.NotFound"),
    kind<SubnetRows>("subnet-", "subnet", "InvalidSubnetID.NotFound"),
    kind<KeyPairRows>("key-", "key-pair", "InvalidKeyPair.NotFound"),
};

Result<const TaggableKind*> kindOf(const std::string& id) {
  for (const TaggableKind& k : kTaggable) {
    if (id.rfind(k.prefix, 0) == 0) {
      return &k;
    }
  }
  return Status("InvalidID", "The ID '" + id +
                                 "' is not valid: tide tags instances, images, launch templates, "
                                 "security groups, VPCs, subnets and key pairs");
}

Result<std::vector<std::string>> resources(const Json& p) {
  TIDE_ASSIGN_OR_RETURN(auto ids, optStringList(p, "Resources"));
  if (ids.empty()) {
    return Status("MissingParameter", "The request must contain the parameter Resources");
  }
  return ids;
}

// Applies `change` to the tags of each resource, in one transaction: all exist, or nothing
// changes.
Status changeTags(ActionContext& ctx, const std::vector<std::string>& ids,
                  const std::function<Result<Tags>(Tags)>& change) {
  return ctx.store.transact([&](store::Tx& tx) -> Status {
    for (const std::string& id : ids) {
      TIDE_ASSIGN_OR_RETURN(const TaggableKind* k, kindOf(id));
      TIDE_ASSIGN_OR_RETURN(auto tags, k->get(tx, id));
      if (!tags) {
        return Status(k->notFoundCode,
                      "The " + std::string(k->resourceType) + " ID '" + id + "' does not exist");
      }
      TIDE_ASSIGN_OR_RETURN(Tags changed, change(std::move(*tags)));
      TIDE_RETURN_IF_ERROR(k->set(tx, id, changed));
    }
    return Status::ok();
  });
}

} // namespace

Result<Json> createTags(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"Resources", "Tags", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(auto ids, resources(p));
  TIDE_ASSIGN_OR_RETURN(Tags add, elbTags(p));
  if (add.empty()) {
    return Status("MissingParameter", "The request must contain the parameter Tags");
  }
  TIDE_RETURN_IF_ERROR(checkTags(add));
  TIDE_RETURN_IF_ERROR(changeTags(ctx, ids, [&](Tags tags) { return mergeTags(tags, add); }));
  return Json::object();
}

Result<Json> deleteTags(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"Resources", "Tags", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(auto ids, resources(p));
  // Each {Key} removes the key whatever its value; {Key, Value} only when the value matches.
  // Without Tags, every tag goes.
  std::vector<std::pair<std::string, std::optional<std::string>>> remove;
  auto it = p.find("Tags");
  bool all = it == p.end() || it->is_null();
  if (!all) {
    if (!it->is_array()) {
      return validationError("Parameter Tags must be a list of {Key, Value}");
    }
    for (const Json& t : *it) {
      if (!t.is_object()) {
        return validationError("Parameter Tags must be a list of {Key, Value}");
      }
      TIDE_ASSIGN_OR_RETURN(std::string key, reqString(t, "Key"));
      TIDE_ASSIGN_OR_RETURN(auto value, optString(t, "Value"));
      remove.emplace_back(key, value);
    }
  }
  TIDE_RETURN_IF_ERROR(changeTags(ctx, ids, [&](Tags tags) -> Result<Tags> {
    if (all) {
      return Tags();
    }
    std::erase_if(tags, [&](const Tag& t) {
      return std::any_of(remove.begin(), remove.end(), [&](const auto& r) {
        return r.first == t.key && (!r.second || *r.second == t.value);
      });
    });
    return tags;
  }));
  return Json::object();
}

Result<Json> describeTags(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"Filters", "MaxResults", "NextToken", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(auto fs, filters(p));
  Json out = Json::array();
  std::vector<std::tuple<std::string_view, std::string, Tags>> rows;
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        for (const TaggableKind& k : kTaggable) {
          TIDE_ASSIGN_OR_RETURN(auto all, k.all(tx));
          for (auto& [id, tags] : all) {
            rows.emplace_back(k.resourceType, id, std::move(tags));
          }
        }
        return Status::ok();
      },
      false));
  for (const auto& [type, id, tags] : rows) {
    for (const Tag& t : tags) {
      TIDE_ASSIGN_OR_RETURN(
          bool keep, matchesFilters(
                         fs, tags,
                         [&](const std::string& f) -> std::optional<std::vector<std::string>> {
                           if (f == "resource-id") {
                             return std::vector{id};
                           }
                           if (f == "resource-type") {
                             return std::vector{std::string(type)};
                           }
                           if (f == "key") {
                             return std::vector{t.key};
                           }
                           if (f == "value") {
                             return std::vector{t.value};
                           }
                           return std::nullopt;
                         },
                         "resource-id, resource-type, key, value"));
      if (keep) {
        out.push_back({{"ResourceId", id},
                       {"ResourceType", std::string(type)},
                       {"Key", t.key},
                       {"Value", t.value}});
      }
    }
  }
  return Json{{"Tags", out}};
}

} // namespace tide::api
