// An instance's disk: its own writable view of the image's files, either an overlayfs mount
// (lower = the image's read-only tree, upper = the instance's changes) or a full copy
// (reflinked per file where the file system allows it).
//
// Layout under the instance folder: disk/ (mount point or copy), upper/ and work/ (overlay
// only). A disk in overlay form is recognised by its upper/ folder, so a server restarted with
// other options still finds its instances' files.
#pragma once

#include "common/status.h"

#include <atomic>
#include <string>

namespace tide::runtime {

// Tries an overlay mount in a scratch folder under root. Returns "" when overlayfs works there,
// otherwise why not (for ProviderInfo::diskNote).
std::string probeOverlay(const std::string& root);

class InstanceDisk {
public:
  // instanceDir: absolute, canonical (mountinfo shows canonical paths).
  explicit InstanceDisk(std::string instanceDir);

  std::string path() const { return dir_ + "/disk"; }
  // True when the disk has been made (in either form).
  bool exists() const;
  // True when the disk is in overlay form (has an upper folder).
  bool isOverlay() const;
  // True when disk/ is a mount point now.
  bool isMounted() const;

  // Makes a new overlay disk over lower and mounts it. On failure nothing is left.
  Status createOverlay(const std::string& lower);
  // Mounts an existing overlay disk (after a reboot or an unmount).
  Status mountOverlay(const std::string& lower);
  // Makes a new disk as a copy of lower (via disk.tmp, renamed when complete). Seconds for a
  // large tree: the instance controller runs it on a worker (InstanceProvider::prepareDisk).
  // When cancel is given and turns true the copy stops with "Cancelled"; on any failure
  // nothing of the copy is left. Every file copied passes the crash point "disk.copy.entry".
  Status createCopy(const std::string& lower, const std::atomic<bool>* cancel = nullptr);
  // Removes the disk's files (disk/, upper/, work/); unmounts first.
  Status remove();

  // Detaches every mount at or below the instance folder and checks that none is left.
  static Status unmountAll(const std::string& dir);

private:
  std::string dir_;
};

} // namespace tide::runtime
