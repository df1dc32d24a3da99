#include "control/image_controller.h"

#include "common/crash_point.h"
#include "common/log.h"

#include <chrono>
#include <set>
#include <sys/stat.h>

namespace tide::control {

namespace {

bool fileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

} // namespace

ImageController::ImageController(store::Store& store, runtime::ImageStore& images,
                                 runtime::InstanceProvider& provider,
                                 ImageControllerOptions options)
    : store_(store), images_(images), provider_(provider), options_(std::move(options)) {}

ImageController::~ImageController() {
  stop();
}

void ImageController::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) {
    worker_.join();
  }
}

bool ImageController::importing() const {
  std::lock_guard<std::mutex> lock(mu_);
  return job_.has_value() || copying_ || done_.has_value();
}

void ImageController::waitForImport() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return (!job_ && !copying_) || stopping_; });
}

Result<runtime::ImageContent> ImageController::runImport(const Job& job) {
  if (job.source.empty()) {
    return Status("InvalidInstanceID.NotFound",
                  "the files of instance " + job.sourceInstanceId + " are gone");
  }
  if (job.readAsUid >= 0 && job.sourceInstanceId.empty()) {
    return images_.importDirectoryAs(job.source, uid_t(job.readAsUid), gid_t(job.readAsGid));
  }
  return images_.importDirectory(job.source);
}

void ImageController::workerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return job_.has_value() || stopping_; });
    if (stopping_) {
      return; // a job not begun stays Pending in the store
    }
    // Tests hold an import here to see the control thread go on meanwhile.
    while (!options_.holdWhileExists.empty() && fileExists(options_.holdWhileExists) &&
           !stopping_) {
      cv_.wait_for(lock, std::chrono::milliseconds(20));
    }
    if (stopping_) {
      return;
    }
    Job job = std::move(*job_);
    job_.reset();
    copying_ = true;
    lock.unlock();
    Result<runtime::ImageContent> content = runImport(job);
    lock.lock();
    copying_ = false;
    done_.emplace(job.imageId, std::move(content));
    cv_.notify_all(); // waitForImport
    if (options_.importEnded && !stopping_) {
      lock.unlock();
      options_.importEnded();
      lock.lock();
    }
  }
}

Status ImageController::record(const std::string& id,
                               const Result<runtime::ImageContent>& content) {
  TIDE_CRASH_POINT("image.record.before");
  std::optional<model::Image> recorded;
  TIDE_RETURN_IF_ERROR(store_.transact([&](store::Tx& tx) -> Status {
    recorded.reset();
    TIDE_ASSIGN_OR_RETURN(auto current, tx.image(id));
    // Deregistered meanwhile: keep it gone. Anything but Pending: someone else decided.
    if (!current.has_value() || current->state != model::ImageState::Pending) {
      return Status::ok();
    }
    model::Image img = std::move(*current);
    if (content) {
      img.state = model::ImageState::Available;
      img.contentDigest = content->digest;
      img.sizeBytes = content->sizeBytes;
      img.fileCount = content->fileCount;
    } else {
      img.state = model::ImageState::Failed;
      img.stateReason = content.status().message();
    }
    TIDE_RETURN_IF_ERROR(tx.putImage(img));
    recorded = std::move(img);
    return Status::ok();
  }));
  if (!recorded) {
    logInfo("image " + id + " is gone (deregistered) or no longer pending: its import is dropped");
  } else if (content) {
    logInfo("image " + recorded->imageId + " (" + recorded->name +
            ") is available: " + std::to_string(content->fileCount) + " files, " + content->digest);
  } else {
    logWarn("image " + recorded->imageId + " (" + recorded->name +
            ") failed: " + recorded->stateReason);
  }
  return Status::ok();
}

Status ImageController::reconcile() {
  // 1. The import that ended, if any.
  std::optional<std::pair<std::string, Result<runtime::ImageContent>>> ended;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ended = std::move(done_);
    done_.reset();
  }
  bool failed = false;
  if (ended) {
    Status recorded = record(ended->first, ended->second);
    if (!recorded.isOk()) {
      // Kept, and recorded at the next pass.
      logError("image " + ended->first + ": " + recorded.toString());
      std::lock_guard<std::mutex> lock(mu_);
      done_ = std::move(ended);
      failed = true;
    }
  }

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

  // 2. The next pending image, when the worker is idle.
  bool busy = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    busy = job_.has_value() || copying_ || done_.has_value();
    if (!busy && !stopping_) {
      for (const model::Image& img : all) {
        if (img.state != model::ImageState::Pending) {
          continue;
        }
        Job job;
        job.imageId = img.imageId;
        job.source = img.sourceInstanceId.empty() ? img.sourceDirectory
                                                  : provider_.diskPath(img.sourceInstanceId);
        job.sourceInstanceId = img.sourceInstanceId;
        job.readAsUid = img.readAsUid;
        job.readAsGid = img.readAsGid;
        job_ = std::move(job);
        busy = true;
        if (!worker_.joinable()) {
          worker_ = std::thread([this] { workerLoop(); });
        }
        break;
      }
    }
  }
  cv_.notify_all();

  // 3. Stored files nobody uses any more; not while an import's files wait for their record.
  if (!busy) {
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
  }
  return failed ? internalError("an import's result could not be recorded (logged above)")
                : Status::ok();
}

} // namespace tide::control
