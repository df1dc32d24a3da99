#include "server/base_image.h"

#include "common/log.h"
#include "common/text.h"
#include "model/public_parameters.h"

#include <filesystem>
#include <fstream>

namespace tide::server {

namespace fs = std::filesystem;

namespace {

std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

Status writeText(const fs::path& path, const std::string& text) {
  if (std::optional<std::string> current = readFile(path.string()); current && *current == text) {
    return Status::ok();
  }
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) {
      return internalError("cannot write " + tmp.string());
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    return internalError("cannot write " + path.string() + ": " + ec.message());
  }
  return Status::ok();
}

constexpr const char* kProcfile = "web: exec tide serve-static\n";
constexpr const char* kReadme =
    "tide's built-in base image (al2023-ami-tide-base-x86_64, ami-0ee8d2b74358b2001).\n"
    "\n"
    "Its app is `tide serve-static`, run with the server's own binary: a static web server on\n"
    "the instance's address and port (HOST, PORT; 80 unless the launch template says\n"
    "otherwise) that answers / with a page naming the instance and /health with 200.\n"
    "The public SSM parameters /aws/service/ami-amazon-linux-latest/* name it (docs/images.md).\n"
    "tide writes this directory at each start; changes here are not kept.\n";

} // namespace

std::string baseImageRunCommand(const std::string& tideBinary) {
  return "exec " + shellQuote(tideBinary) + " serve-static";
}

Status ensureBaseImage(store::Store& store, const runtime::ImageStore& images,
                       const std::string& dataDir, const std::string& tideBinary) {
  fs::path dir = fs::path(dataDir) / "base-image";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return internalError("cannot create " + dir.string() + ": " + ec.message());
  }
  TIDE_RETURN_IF_ERROR(writeText(dir / "Procfile", kProcfile));
  TIDE_RETURN_IF_ERROR(writeText(dir / "README", kReadme));

  const std::string id(model::kBaseImageId);
  const std::string run = baseImageRunCommand(tideBinary);
  std::string changed;
  Status s = store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto existing, tx.image(id));
    if (!existing.has_value()) {
      TIDE_ASSIGN_OR_RETURN(auto named, tx.imageByName(std::string(model::kBaseImageName)));
      if (named.has_value()) {
        return Status("InvalidAMIName.Duplicate",
                      "the image " + named->imageId + " is named " +
                          std::string(model::kBaseImageName) +
                          ", the built-in base image's name; deregister or rename it");
      }
      model::Image img;
      img.imageId = id;
      img.name = model::kBaseImageName;
      img.description = model::kBaseImageDescription;
      img.sourceDirectory = fs::canonical(dir).string();
      img.runCommand = run;
      img.port = 80;
      img.healthCheckPath = "/health";
      img.creationDate = model::kPublicParametersModified;
      changed = "registered";
      return tx.putImage(img);
    }
    model::Image img = *existing;
    if (img.runCommand != run) {
      img.runCommand = run; // the binary moved since the last start
      changed = "now runs " + run;
    }
    bool filesGone =
        img.state == model::ImageState::Available && !images.contains(img.contentDigest);
    if (img.state == model::ImageState::Failed || filesGone) {
      img.state = model::ImageState::Pending; // imported again by the image controller
      img.stateReason.clear();
      img.sourceDirectory = fs::canonical(dir).string();
      changed += changed.empty() ? "imported again" : ", imported again";
    }
    return changed.empty() ? Status::ok() : tx.putImage(img);
  });
  if (s.isOk() && !changed.empty()) {
    logInfo("base image " + id + " (" + std::string(model::kBaseImageName) + "): " + changed);
  }
  return s;
}

} // namespace tide::server
