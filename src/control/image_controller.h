// The image controller: copies the files of pending images into the image store and marks them
// available (or failed, with the reason), and removes stored files that no image and no live
// instance uses any more. Level-triggered: each pass looks at the store as it is.
// Not thread-safe: runs on the control thread.
#pragma once

#include "common/clock.h"
#include "runtime/image_store.h"
#include "runtime/instance_provider.h"
#include "store/store.h"

namespace tide::control {

class ImageController {
public:
  ImageController(store::Store& store, runtime::ImageStore& images,
                  runtime::InstanceProvider& provider);

  // One pass over every pending image. An image whose result cannot be recorded (a store
  // error) is logged and stays pending; the others go on, and the pass then returns an error
  // so that it is retried. Errors: the store cannot be read or written.
  Status reconcile();

private:
  store::Store& store_;
  runtime::ImageStore& images_;
  runtime::InstanceProvider& provider_;
};

} // namespace tide::control
