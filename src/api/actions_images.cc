// CreateImage, RegisterImage, DescribeImages, DeregisterImage.
//
// CreateImage takes EC2's InstanceId (an image of a running instance's files) or tide's
// SourceDirectory + RunCommand (an image of an app directory). The image is recorded as
// "pending"; the image controller copies the files and marks it "available" (or "failed").
// RegisterImage makes the same image of ImageLocation, a directory whose Procfile says how the
// app starts, so that unmodified AWS clients (which cannot send tide's own members) make images
// too.
#include "api/handlers.h"
#include "api/params.h"
#include "api/shapes.h"
#include "common/ids.h"
#include "common/text.h"
#include "model/names.h"
#include "model/public_parameters.h"
#include "model/validation.h"
#include "store/space_reserve.h"

#include <pwd.h>
#include <sys/types.h>

#include <algorithm>
#include <filesystem>
#include <tuple>

namespace tide::api {

namespace fs = std::filesystem;

namespace {

// path is the server's data directory, inside it or above it: an image of it would hand tide's
// own state (state.db, credentials, other instances' disks) to whoever launches the image.
Status refuseDataDirectory(const ActionContext& ctx, const std::string& canonicalPath,
                           const std::string& given, const char* member) {
  if (ctx.dataDir.empty()) {
    return Status::ok();
  }
  std::error_code ec;
  fs::path data = fs::weakly_canonical(ctx.dataDir, ec);
  if (ec) {
    data = fs::path(ctx.dataDir).lexically_normal();
  }
  auto within = [](const fs::path& inner, const fs::path& outer) {
    return std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end()).first ==
           outer.end();
  };
  fs::path source(canonicalPath);
  if (within(source, data) || within(data, source)) {
    return Status("InvalidParameterValue", std::string(member) + " '" + given + "' is " +
                                               (within(source, data) ? "inside" : "above") +
                                               " tide's data directory " + data.string() +
                                               ": an image of the server's own state is refused");
  }
  return Status::ok();
}

// Whose rights SourceDirectory is read with (docs/security.md): the uid owning the caller's
// socket for a TCP caller on this machine (with that user's primary group); nobody (65534) when
// the caller cannot be known; the server's own (-1) for in-process calls (stacks being
// provisioned, tests), which have no peer.
std::pair<int64_t, int64_t> callerIds(const ActionContext& ctx) {
  constexpr int64_t kNobody = 65534;
  if (ctx.peer.empty()) {
    return {-1, -1};
  }
  std::optional<uint32_t> uid = ctx.host.callerUid(ctx.peer);
  if (!uid) {
    return {kNobody, kNobody};
  }
  passwd pw;
  passwd* found = nullptr;
  std::string buf(16384, '\0');
  if (getpwuid_r(*uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
    return {int64_t(*uid), int64_t(pw.pw_gid)};
  }
  return {int64_t(*uid), kNobody};
}

} // namespace

Result<Json> createImage(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"Name", "Description", "InstanceId", "NoReboot",
                                            "SourceDirectory", "RunCommand", "Port",
                                            "HealthCheckPath", "TagSpecifications", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(auto name, reqString(p, "Name"));
  TIDE_RETURN_IF_ERROR(model::validateImageName(name));
  auto description = optString(p, "Description");
  auto instanceId = optString(p, "InstanceId");
  auto dir = optString(p, "SourceDirectory");
  auto run = optString(p, "RunCommand");
  auto port = optInt(p, "Port");
  auto health = optString(p, "HealthCheckPath");
  auto tags = tagSpecifications(p, "image", {"snapshot"});
  TIDE_RETURN_IF_ERROR(
      firstError({&description.status(), &instanceId.status(), &dir.status(), &run.status(),
                  &port.status(), &health.status(), &tags.status()}));
  TIDE_RETURN_IF_ERROR(model::validateTags(*tags));
  if (instanceId->has_value() == dir->has_value()) {
    return Status("MissingParameter",
                  "CreateImage needs exactly one of InstanceId (an image of an instance) or "
                  "SourceDirectory (an image of an app directory)");
  }
  if (*port) {
    TIDE_RETURN_IF_ERROR(
        model::validatePort(static_cast<int>(std::clamp<int64_t>(**port, -1, 70000)), "Port"));
  }
  if (*health && ((*health)->empty() || (**health)[0] != '/')) {
    return Status("InvalidParameterValue",
                  "HealthCheckPath '" + **health + "' must start with '/'");
  }

  // The import adds files to the data directory: refused while its file system is full.
  TIDE_RETURN_IF_ERROR(store::checkRoomForNewData(ctx.dataDir + "/state.db",
                                                  "InsufficientVolumeCapacity", "a new image"));

  model::Image img;
  img.imageId = newId("ami");
  img.name = name;
  img.description = description->value_or("");
  img.creationDate = ctx.clock.now();
  img.tags = *tags;
  img.healthCheckPath = health->value_or("/");

  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto existing, tx.imageByName(img.name));
    if (existing.has_value()) {
      return Status("InvalidAMIName.Duplicate",
                    "An image named '" + img.name + "' already exists: " + existing->imageId);
    }
    if (dir->has_value()) {
      fs::path path(**dir);
      if (!path.is_absolute()) {
        return Status("InvalidParameterValue",
                      "SourceDirectory '" + **dir + "' must be an absolute path");
      }
      std::error_code ec;
      if (!fs::exists(path, ec)) {
        return Status("InvalidParameterValue", "SourceDirectory '" + **dir + "' does not exist");
      }
      if (!fs::is_directory(path, ec)) {
        return Status("InvalidParameterValue",
                      "SourceDirectory '" + **dir + "' is not a directory");
      }
      if (!run->has_value() || trim(**run).empty()) {
        return Status("MissingParameter",
                      "An image of a directory needs RunCommand: what starts the app");
      }
      img.sourceDirectory = fs::canonical(path, ec).string();
      TIDE_RETURN_IF_ERROR(refuseDataDirectory(ctx, img.sourceDirectory, **dir, "SourceDirectory"));
      img.runCommand = **run;
      std::tie(img.readAsUid, img.readAsGid) = callerIds(ctx);
      img.port = port->has_value() ? static_cast<int>(**port) : 8080;
    } else {
      TIDE_ASSIGN_OR_RETURN(auto inst, tx.instance(**instanceId));
      if (!inst.has_value() || inst->state == model::InstanceState::Terminated) {
        return Status("InvalidInstanceID.NotFound",
                      "The instance ID '" + **instanceId + "' does not exist");
      }
      const model::Instance& i = *inst;
      if (i.state == model::InstanceState::Pending ||
          i.state == model::InstanceState::ShuttingDown) {
        return Status("IncorrectInstanceState", "The instance '" + i.instanceId +
                                                    "' is not in a state from which an image "
                                                    "can be made (it is pending or shutting down)");
      }
      img.sourceInstanceId = i.instanceId;
      img.runCommand = run->has_value() ? **run : i.runCommand;
      img.port = port->has_value() ? static_cast<int>(**port) : i.port;
      if (!health->has_value()) {
        auto source = tx.image(i.imageId);
        if (source && source->has_value()) {
          img.healthCheckPath = (*source)->healthCheckPath;
        }
      }
    }
    return tx.putImage(img);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"ImageId", img.imageId}};
}

namespace {

// The command of the Procfile's `web:` process ("web: python3 server.py"), as Heroku-style
// Procfiles say how an app starts. Errors name the file and what it lacks.
Result<std::string> procfileWebCommand(const std::string& location) {
  fs::path procfile = fs::path(location) / "Procfile";
  std::error_code ec;
  if (!fs::is_regular_file(procfile, ec)) {
    return Status("InvalidParameterValue",
                  "ImageLocation '" + location +
                      "' has no Procfile: tide starts an image's app with the command of a "
                      "line 'web: COMMAND' in a file named Procfile at its top");
  }
  if (fs::file_size(procfile, ec) > 64 * 1024 || ec) {
    return Status("InvalidParameterValue", procfile.string() + " is larger than 64 KiB");
  }
  std::optional<std::string> text = readFile(procfile.string());
  if (!text || !isValidUtf8(*text)) {
    return Status("InvalidParameterValue", procfile.string() + " is not readable UTF-8 text");
  }
  for (const std::string& line : splitString(*text, '\n')) {
    std::string_view l = trim(line);
    if (l.starts_with("web:")) {
      std::string_view command = trim(l.substr(4));
      if (command.empty()) {
        return Status("InvalidParameterValue", procfile.string() + ": 'web:' has no command");
      }
      return std::string(command);
    }
  }
  return Status("InvalidParameterValue",
                procfile.string() + " has no 'web: COMMAND' line saying how the app starts");
}

} // namespace

Result<Json> registerImage(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"Name", "Description", "ImageLocation", "Architecture", "RootDeviceName",
                           "VirtualizationType", "BootMode", "TagSpecifications", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(auto location, optString(p, "ImageLocation"));
  if (!location) {
    return Status("MissingParameter",
                  "tide registers images of a directory: ImageLocation is the absolute path of "
                  "a directory with a Procfile ('web: COMMAND')");
  }
  if (!fs::path(*location).is_absolute()) {
    return Status("InvalidParameterValue",
                  "ImageLocation '" + *location + "' must be an absolute path");
  }
  TIDE_ASSIGN_OR_RETURN(auto architecture, optString(p, "Architecture"));
  if (architecture && *architecture != "x86_64" && *architecture != "arm64") {
    return Status("InvalidParameterValue",
                  "Architecture '" + *architecture + "' is not valid: x86_64 or arm64");
  }
  std::error_code ec;
  if (!fs::is_directory(*location, ec)) {
    return Status("InvalidParameterValue", "ImageLocation '" + *location + "' is not a directory");
  }
  TIDE_RETURN_IF_ERROR(
      refuseDataDirectory(ctx, fs::canonical(*location, ec).string(), *location, "ImageLocation"));
  TIDE_ASSIGN_OR_RETURN(std::string command, procfileWebCommand(*location));
  Json create = {
      {"Name", p.value("Name", Json())}, {"SourceDirectory", *location}, {"RunCommand", command}};
  for (const char* key : {"Description", "TagSpecifications"}) {
    if (p.contains(key)) {
      create[key] = p[key];
    }
  }
  if (create["Name"].is_null()) {
    create.erase("Name"); // createImage names the missing parameter
  }
  return createImage(ctx, create);
}

Result<Json> describeImages(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"ImageIds", "Owners", "ExecutableUsers", "Filters", "DryRun"}));
  TIDE_ASSIGN_OR_RETURN(auto ids, optStringList(p, "ImageIds"));
  TIDE_ASSIGN_OR_RETURN(auto owners, optStringList(p, "Owners"));
  TIDE_ASSIGN_OR_RETURN(auto fs, filters(p));
  // Owners: "self" (and the account's id) are the images made here, "amazon" (and Amazon's
  // account id) tide's built-in ones. Without Owners or ImageIds only the account's own images
  // are listed: AWS would add every public image it has, which nobody asks for.
  for (const std::string& o : owners) {
    if (o != "self" && o != "amazon" && o != "aws-marketplace" && o != "aws-backup-vault" &&
        !(o.size() == 12 && o.find_first_not_of("0123456789") == std::string::npos)) {
      return Status("InvalidUserID.Malformed",
                    "Invalid owner: '" + o + "' (self, amazon or a 12-digit account id)");
    }
  }
  auto ownedBy = [&](const model::Image& img) {
    bool builtin = model::isBuiltinImage(img.imageId);
    if (owners.empty()) {
      return !builtin || !ids.empty();
    }
    for (const std::string& o : owners) {
      if (builtin ? (o == model::kAmazonOwnerAlias || o == model::kAmazonOwnerId)
                  : (o == "self" || o == ctx.accountId)) {
        return true;
      }
    }
    return false;
  };
  std::vector<model::Image> images;
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto all, tx.images());
        images = std::move(all);
        return Status::ok();
      },
      false));
  for (const std::string& id : ids) {
    bool found = false;
    for (const auto& img : images) {
      found = found || img.imageId == id;
    }
    if (!found) {
      return Status("InvalidAMIID.NotFound", "The image id '[" + id + "]' does not exist");
    }
  }
  Json out = Json::array();
  for (const auto& img : images) {
    if ((!ids.empty() && std::find(ids.begin(), ids.end(), img.imageId) == ids.end()) ||
        !ownedBy(img)) {
      continue;
    }
    bool keep = true;
    for (const Filter& f : fs) {
      std::optional<std::string> value;
      if (f.name == "name") {
        value = img.name;
      } else if (f.name == "image-id") {
        value = img.imageId;
      } else if (f.name == "state") {
        value = std::string(model::imageStateName(img.state));
      } else if (f.name == "owner-alias") {
        value = model::isBuiltinImage(img.imageId) ? std::string(model::kAmazonOwnerAlias) : "";
      } else if (f.name == "owner-id") {
        value =
            model::isBuiltinImage(img.imageId) ? std::string(model::kAmazonOwnerId) : ctx.accountId;
      } else if (f.name == "is-public") {
        value = model::isBuiltinImage(img.imageId) ? "true" : "false";
      } else if (f.name == "architecture") {
        value = "x86_64";
      } else if (f.name.rfind("tag:", 0) == 0) {
        value = tagValue(img.tags, f.name.substr(4));
      } else {
        return Status("InvalidParameterValue", "The filter '" + f.name +
                                                   "' is invalid; tide knows name, image-id, "
                                                   "state, owner-alias, owner-id, is-public, "
                                                   "architecture and tag:<key>");
      }
      keep = keep && value && filterMatches(f, *value);
    }
    if (keep) {
      out.push_back(imageJson(ctx.accountId, img));
    }
  }
  return Json{{"Images", out}};
}

Result<Json> deregisterImage(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"ImageId", "DryRun"}));
  auto id = reqString(p, "ImageId");
  TIDE_RETURN_IF_ERROR(id.status());
  if (!isIdOf(*id, "ami")) {
    return Status("InvalidAMIID.Malformed", "Invalid id: '" + *id + "'");
  }
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto img, tx.image(*id));
    if (!img.has_value()) {
      return Status("InvalidAMIID.NotFound", "The image id '[" + *id + "]' does not exist");
    }
    if (model::isBuiltinImage(*id)) {
      return Status("OperationNotPermitted",
                    "The image '" + *id +
                        "' is tide's built-in base image (owned by amazon, "
                        "as AWS's public images are): it cannot be deregistered");
    }
    return tx.deleteImage(*id);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"Return", true}};
}

} // namespace tide::api
