// CreateLaunchTemplate, CreateLaunchTemplateVersion, DescribeLaunchTemplates,
// DescribeLaunchTemplateVersions, ModifyLaunchTemplate, DeleteLaunchTemplate.
//
// Versions are numbered from 1 and immutable; $Default and $Latest resolve as in EC2.
#include "api/handlers.h"
#include "api/params.h"
#include "api/shapes.h"
#include "common/ids.h"
#include "model/public_parameters.h"
#include "model/validation.h"
#include "operations/launch.h"

namespace tide::api {

using operations::findLaunchTemplate;
using operations::resolveLaunchTemplate;

namespace {

struct TemplateRef {
  std::string id;
  std::string name;
};

Result<TemplateRef> templateRef(const Json& p) {
  auto id = optString(p, "LaunchTemplateId");
  auto name = optString(p, "LaunchTemplateName");
  TIDE_RETURN_IF_ERROR(firstError({&id.status(), &name.status()}));
  return TemplateRef{id->value_or(""), name->value_or("")};
}

// Checks that the data's image exists (when set): a template must not name a missing image.
Status checkImage(store::Tx& tx, const model::LaunchTemplateData& d) {
  if (d.imageId.empty()) {
    return Status::ok();
  }
  // "resolve:ssm:NAME" is kept as written (resolved again at each launch) but must name a
  // parameter that holds an image now.
  TIDE_ASSIGN_OR_RETURN(std::string imageId, model::resolveImageId(d.imageId));
  TIDE_ASSIGN_OR_RETURN(auto img, tx.image(imageId));
  if (!img.has_value()) {
    return Status("InvalidAMIID.NotFound", "The image id '[" + imageId + "]' does not exist");
  }
  return Status::ok();
}

} // namespace

Result<Json> createLaunchTemplate(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"LaunchTemplateName", "VersionDescription", "LaunchTemplateData",
                           "TagSpecifications", "ClientToken", "DryRun"}));
  auto name = reqString(p, "LaunchTemplateName");
  TIDE_RETURN_IF_ERROR(name.status());
  TIDE_RETURN_IF_ERROR(model::validateLaunchTemplateName(*name));
  TIDE_ASSIGN_OR_RETURN(auto description, optString(p, "VersionDescription"));
  if (!p.contains("LaunchTemplateData")) {
    return Status("MissingParameter", "The request must contain the parameter LaunchTemplateData");
  }
  TIDE_ASSIGN_OR_RETURN(auto data, parseLaunchTemplateData(p["LaunchTemplateData"], {}));
  TIDE_ASSIGN_OR_RETURN(auto tags, tagSpecifications(p, "launch-template", {}));
  TIDE_RETURN_IF_ERROR(model::validateTags(tags));

  model::LaunchTemplate lt;
  lt.launchTemplateId = newId("lt");
  lt.launchTemplateName = *name;
  lt.createTime = ctx.clock.now();
  lt.tags = tags;
  model::LaunchTemplateVersion v;
  v.launchTemplateId = lt.launchTemplateId;
  v.launchTemplateName = lt.launchTemplateName;
  v.versionNumber = 1;
  v.versionDescription = description.value_or("");
  v.createTime = lt.createTime;
  v.data = data;
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto existing, tx.launchTemplateByName(lt.launchTemplateName));
    if (existing.has_value()) {
      return Status("InvalidLaunchTemplateName.AlreadyExistsException",
                    "Launch template name already in use: " + lt.launchTemplateName + " (" +
                        existing->launchTemplateId + ")");
    }
    TIDE_RETURN_IF_ERROR(checkImage(tx, v.data));
    TIDE_RETURN_IF_ERROR(tx.putLaunchTemplate(lt));
    return tx.insertLaunchTemplateVersion(v);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"LaunchTemplate", launchTemplateJson(ctx.accountId, lt)}};
}

Result<Json> createLaunchTemplateVersion(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"LaunchTemplateId", "LaunchTemplateName", "SourceVersion",
                           "VersionDescription", "LaunchTemplateData", "ClientToken", "DryRun"}));
  auto ref = templateRef(p);
  auto source = optString(p, "SourceVersion");
  auto description = optString(p, "VersionDescription");
  TIDE_RETURN_IF_ERROR(firstError({&ref.status(), &source.status(), &description.status()}));
  if (!p.contains("LaunchTemplateData")) {
    return Status("MissingParameter", "The request must contain the parameter LaunchTemplateData");
  }
  model::LaunchTemplateVersion v;
  model::LaunchTemplate lt;
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto found, findLaunchTemplate(tx, ref->id, ref->name));
    lt = std::move(found);
    model::LaunchTemplateData base;
    if (source->has_value()) {
      TIDE_ASSIGN_OR_RETURN(auto src, resolveLaunchTemplate(tx, lt.launchTemplateId, "", **source));
      base = src.version.data;
    }
    TIDE_ASSIGN_OR_RETURN(auto data, parseLaunchTemplateData(p["LaunchTemplateData"], base));
    TIDE_RETURN_IF_ERROR(checkImage(tx, data));
    v.launchTemplateId = lt.launchTemplateId;
    v.launchTemplateName = lt.launchTemplateName;
    v.versionNumber = lt.latestVersionNumber + 1;
    v.versionDescription = description->value_or("");
    v.createTime = ctx.clock.now();
    v.data = data;
    lt.latestVersionNumber = v.versionNumber;
    TIDE_RETURN_IF_ERROR(tx.insertLaunchTemplateVersion(v));
    return tx.putLaunchTemplate(lt);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"LaunchTemplateVersion",
               launchTemplateVersionJson(ctx.accountId, v, lt.defaultVersionNumber)}};
}

Result<Json> describeLaunchTemplates(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      p, {"LaunchTemplateIds", "LaunchTemplateNames", "Filters", "MaxResults", "DryRun"}));
  auto ids = optStringList(p, "LaunchTemplateIds");
  auto names = optStringList(p, "LaunchTemplateNames");
  TIDE_RETURN_IF_ERROR(firstError({&ids.status(), &names.status()}));
  Json out = Json::array();
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        if (ids->empty() && names->empty()) {
          TIDE_ASSIGN_OR_RETURN(auto all, tx.launchTemplates());
          for (const auto& lt : all) {
            out.push_back(launchTemplateJson(ctx.accountId, lt));
          }
          return Status::ok();
        }
        std::vector<TemplateRef> refs;
        for (const auto& id : *ids) {
          refs.push_back({id, ""});
        }
        for (const auto& name : *names) {
          refs.push_back({"", name});
        }
        for (const TemplateRef& ref : refs) {
          TIDE_ASSIGN_OR_RETURN(auto lt, findLaunchTemplate(tx, ref.id, ref.name));
          out.push_back(launchTemplateJson(ctx.accountId, lt));
        }
        return Status::ok();
      },
      false));
  return Json{{"LaunchTemplates", out}};
}

Result<Json> describeLaunchTemplateVersions(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"LaunchTemplateId", "LaunchTemplateName", "Versions", "MinVersion",
                           "MaxVersion", "Filters", "MaxResults", "ResolveAlias", "DryRun"}));
  auto ref = templateRef(p);
  auto versions = optStringList(p, "Versions");
  auto resolveAlias = optBool(p, "ResolveAlias");
  TIDE_RETURN_IF_ERROR(firstError({&ref.status(), &versions.status(), &resolveAlias.status()}));
  Json out = Json::array();
  // ResolveAlias: show the image id a "resolve:ssm:NAME" resolves to now instead of the name.
  auto versionJson = [&](model::LaunchTemplateVersion v, int64_t defaultVersion) -> Json {
    if (resolveAlias->value_or(false)) {
      if (Result<std::string> id = model::resolveImageId(v.data.imageId)) {
        v.data.imageId = *id;
      }
    }
    return launchTemplateVersionJson(ctx.accountId, v, defaultVersion);
  };
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto lt, findLaunchTemplate(tx, ref->id, ref->name));
        if (versions->empty()) {
          TIDE_ASSIGN_OR_RETURN(auto all, tx.launchTemplateVersions(lt.launchTemplateId));
          for (const auto& v : all) {
            out.push_back(versionJson(v, lt.defaultVersionNumber));
          }
          return Status::ok();
        }
        for (const auto& spec : *versions) {
          TIDE_ASSIGN_OR_RETURN(auto r, resolveLaunchTemplate(tx, lt.launchTemplateId, "", spec));
          out.push_back(versionJson(r.version, lt.defaultVersionNumber));
        }
        return Status::ok();
      },
      false));
  return Json{{"LaunchTemplateVersions", out}};
}

Result<Json> modifyLaunchTemplate(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      p, {"LaunchTemplateId", "LaunchTemplateName", "DefaultVersion", "ClientToken", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(auto ref, templateRef(p));
  TIDE_ASSIGN_OR_RETURN(auto version, reqString(p, "DefaultVersion"));
  model::LaunchTemplate lt;
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto r, resolveLaunchTemplate(tx, ref.id, ref.name, version));
    lt = r.launchTemplate;
    lt.defaultVersionNumber = r.version.versionNumber;
    return tx.putLaunchTemplate(lt);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"LaunchTemplate", launchTemplateJson(ctx.accountId, lt)}};
}

Result<Json> deleteLaunchTemplate(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"LaunchTemplateId", "LaunchTemplateName", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(auto ref, templateRef(p));
  model::LaunchTemplate lt;
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto found, findLaunchTemplate(tx, ref.id, ref.name));
    lt = std::move(found);
    return tx.deleteLaunchTemplate(lt.launchTemplateId);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"LaunchTemplate", launchTemplateJson(ctx.accountId, lt)}};
}

} // namespace tide::api
