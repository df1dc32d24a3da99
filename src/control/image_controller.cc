#include "control/image_controller.h"

#include "common/crash_point.h"
#include "common/log.h"

#include <set>

namespace tide::control {

ImageController::ImageController(store::Store& store, runtime::ImageStore& images,
                                 runtime::InstanceProvider& provider)
    : store_(store), images_(images), provider_(provider) {}

Status ImageController::reconcile() {
  std::vector<model::Image> all;
  std::vector<model::Instance> instances;
  TIDE_RETURN_IF_ERROR(store_.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto imgs, tx.images());
        TIDE_ASSIGN_OR_RETURN(auto insts, tx.instances());
        all = std::move(imgs);
        instances = std::move(insts);
        return Status::ok();
      },
      false));

  bool failed = false;
  for (model::Image& img : all) {
    if (img.state != model::ImageState::Pending) {
      continue;
    }
    std::string source = img.sourceDirectory;
    if (!img.sourceInstanceId.empty()) {
      source = provider_.diskPath(img.sourceInstanceId);
    }
    Result<runtime::ImageContent> content =
        source.empty() ? Result<runtime::ImageContent>(
                             Status("InvalidInstanceID.NotFound",
                                    "the files of instance " + img.sourceInstanceId + " are gone"))
        : img.readAsUid >= 0 && img.sourceInstanceId.empty()
            ? images_.importDirectoryAs(source, uid_t(img.readAsUid), gid_t(img.readAsGid))
            : images_.importDirectory(source);
    if (content) {
      img.state = model::ImageState::Available;
      img.contentDigest = content->digest;
      img.sizeBytes = content->sizeBytes;
      img.fileCount = content->fileCount;
      logInfo("image " + img.imageId + " (" + img.name + ") is available: " +
              std::to_string(content->fileCount) + " files, " + content->digest);
    } else {
      img.state = model::ImageState::Failed;
      img.stateReason = content.status().message();
      logWarn("image " + img.imageId + " (" + img.name + ") failed: " + img.stateReason);
    }
    TIDE_CRASH_POINT("image.record.before");
    Status recorded = store_.transact([&](store::Tx& tx) -> Status {
      // The image may have been deregistered meanwhile: then keep it gone.
      TIDE_ASSIGN_OR_RETURN(auto current, tx.image(img.imageId));
      return current.has_value() ? tx.putImage(img) : Status::ok();
    });
    if (!recorded.isOk()) {
      // This image stays pending and is imported again at the next pass; the others go on.
      logError("image " + img.imageId + ": " + recorded.toString());
      failed = true;
    }
  }

  // Stored files nobody uses any more.
  std::set<std::string> used;
  for (const model::Image& img : all) {
    used.insert(img.contentDigest);
  }
  for (const model::Instance& i : instances) {
    if (i.state != model::InstanceState::Terminated) {
      used.insert(i.contentDigest);
    }
  }
  for (const std::string& digest : images_.list()) {
    if (!used.count(digest)) {
      Status s = images_.remove(digest);
      if (!s.isOk()) {
        logWarn("could not remove unused image files " + digest + ": " + s.message());
      }
    }
  }
  return failed ? internalError("some images could not be recorded (logged above)") : Status::ok();
}

} // namespace tide::control
