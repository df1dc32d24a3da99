// The image controller: copies the files of pending images into the image store and marks them
// available (or failed, with the reason), and removes stored files that no image and no live
// instance uses any more. Level-triggered: each pass looks at the store as it is.
//
// The copy itself (seconds for a large tree) runs on a worker thread of the controller's own,
// one image at a time, so that the control thread (the API, every other controller, the health
// checks) never waits for it. A pass on the control thread:
//   1. records the result of an import that ended, in one transaction with the image as it is
//      now: an image deregistered meanwhile stays gone (its copied files are then unused and go
//      at a later pass); one whose result cannot be recorded keeps it for the next pass;
//   2. hands the next pending image to the worker when it is idle;
//   3. removes unused stored files, only while no import is in flight (an import's files are
//      unused until its result is recorded).
// An image stays Pending in the store until its result is recorded, so a crash mid-import
// leaves it Pending, the start-up sweep (ImageStore::removeIncompleteImports) removes the
// partial copy, and the next server imports it again.
//
// Thread-safety: reconcile(), stop() and the destructor run on the control thread; the worker
// touches only the ImageStore's import (a new temporary folder, renamed into place) and the
// controller's job slot, under its mutex. Options::importEnded runs on the worker.
#pragma once

#include "common/clock.h"
#include "runtime/image_store.h"
#include "runtime/instance_provider.h"
#include "store/store.h"

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace tide::control {

struct ImageControllerOptions {
  // Called on the worker thread when an import ends (its result waits for the next pass): the
  // owner wakes the controller from it (EventLoop::post). Must be thread-safe. Empty: the
  // result is recorded at the next pass, whenever that runs.
  std::function<void()> importEnded;
  // Tests only: while a file exists at this path, an import waits before it copies anything
  // (the server takes it from TIDE_TEST_HOLD_IMPORTS). Empty: never held.
  std::string holdWhileExists;
};

class ImageController {
public:
  ImageController(store::Store& store, runtime::ImageStore& images,
                  runtime::InstanceProvider& provider, ImageControllerOptions options = {});
  // stop().
  ~ImageController();

  // One pass: records the import that ended, starts the next, removes unused files (see
  // above). Returns an error when a result could not be recorded (it is kept and recorded at
  // the next pass), or the store cannot be read.
  Status reconcile();

  // Whether an import is in flight or its result not yet recorded.
  bool importing() const;
  // Blocks until the import in flight (if any) ends. For tests.
  void waitForImport();
  // Ends the worker: an import held by holdWhileExists is abandoned (the image stays Pending and
  // is imported at the next start), one copying is waited for (its result is not recorded; the
  // image stays Pending). Idempotent.
  void stop();

private:
  // What the worker copies, and what it found.
  struct Job {
    std::string imageId;
    std::string source; // the directory to copy; empty: the source instance's files are gone
    std::string sourceInstanceId;
    int64_t readAsUid = -1;
    int64_t readAsGid = -1;
  };
  Result<runtime::ImageContent> runImport(const Job& job);
  void workerLoop();
  // Records `result` for image `id`. Errors: the store's.
  Status record(const std::string& id, const Result<runtime::ImageContent>& result);

  store::Store& store_;
  runtime::ImageStore& images_;
  runtime::InstanceProvider& provider_;
  ImageControllerOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Job> job_; // GUARDED_BY(mu_): to copy
  bool copying_ = false;   // GUARDED_BY(mu_)
  std::optional<std::pair<std::string, Result<runtime::ImageContent>>> done_; // GUARDED_BY(mu_)
  bool stopping_ = false;                                                     // GUARDED_BY(mu_)
  std::thread worker_; // started at the first import
};

} // namespace tide::control
