// An instance's root volume: what makes the launch's root volume size (BlockDeviceMappings'
// Ebs.VolumeSize of the root device, or the image's default of 8 GiB) a real limit, as an EBS
// volume is. A sparse file of that size under the instance folder holds an ext4 file system
// (mkfs.ext4 from e2fsprogs), loop-mounted at <instance folder>/volume; the instance's disk
// (disk.h: the overlay's upper layer, or the full copy) lives inside it, so a write past the
// size fails inside the instance with ENOSPC and the host's file system is untouched.
//
// The file is sparse: it costs on the host only what the instance has written (plus the file
// system's metadata, about 4 MiB for 8 GiB). Loop devices are set up with autoclear, so the
// unmount (InstanceDisk::unmountAll at destroy) also frees the device.
//
// Needs root (loop devices and mount). Without root, or without mkfs.ext4 or loop devices,
// probeRootVolumes() says why, and instances get their disk directly under the instance
// folder with the size not enforced (tide status says so).
#pragma once

#include "common/status.h"

#include <cstdint>
#include <string>

namespace tide::runtime {

// "" when root volumes can be made under root (root, mkfs.ext4 in /usr/sbin or /sbin, loop
// devices, and a small volume made, mounted and removed there), else why not, for
// ProviderInfo and `tide status`.
std::string probeRootVolumes(const std::string& root);

class RootVolume {
public:
  // instanceDir: absolute, canonical.
  explicit RootVolume(std::string instanceDir);

  std::string filePath() const { return dir_ + "/volume.img"; }
  // Where the file system is mounted; the instance's disk folder (InstanceDisk's) when the
  // volume exists.
  std::string mountPoint() const { return dir_ + "/volume"; }
  // True when the instance has a volume file (made at its first start).
  bool exists() const;
  // True when the volume is mounted now.
  bool isMounted() const;

  // Makes the volume (a sparse file of sizeBytes with an ext4 file system) when it does not
  // exist, and mounts it when it is not mounted; says in made and mounted (when given) whether
  // it did either. An existing volume keeps its size. On failure what this call made is
  // removed again. Errors: InternalError naming the step (mkfs, loop device, mount).
  Status prepare(int64_t sizeBytes, bool* made = nullptr, bool* mounted = nullptr);
  // Unmounts the volume and removes its file and mount point (none of them there is fine).
  Status remove();

  // The volume is thin (a sparse file): when the host's file system has less room than the
  // instance writes, the writes fail only when the kernel writes them back, later. A
  // WriteCheck made before a large write (the copy of a copy-mode disk) and checked after it
  // writes everything back now and says whether any of it failed (as ENOSPC, usually).
  class WriteCheck {
  public:
    explicit WriteCheck(const RootVolume& volume);
    ~WriteCheck();
    WriteCheck(const WriteCheck&) = delete;
    WriteCheck& operator=(const WriteCheck&) = delete;
    Status check();

  private:
    std::string path_;
    int fd_ = -1;
  };

private:
  Status mount();

  std::string dir_;
};

} // namespace tide::runtime
