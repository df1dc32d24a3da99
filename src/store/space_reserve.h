// Room to free room: a file of a few MiB kept allocated next to the store, given back to the
// file system when it is (nearly) full so that the transactions that free space (deleting an
// image, terminating an instance, deleting a stack) can still commit, and taken again once the
// file system has room. Without it, a full data directory could not be emptied through tide:
// SQLite needs a few free pages to append a delete to its write-ahead log.
//
// The reserve is <store path>-reserve. Actions that would fill the disk (a launch, an image
// import) ask checkRoomForNewData first and are refused while the reserve is spent or the room
// left beside it is below its size, so the reserve is spent on deletes, not on new data.
#pragma once

#include "common/status.h"

#include <cstdint>
#include <string>

namespace tide::store {

// The reserve's size when the server does not choose one: enough for thousands of small
// transactions' pages, small next to any image.
constexpr int64_t kDefaultReserveBytes = 8 << 20;
// Below this much free space a transaction spends a step of the reserve before it starts.
constexpr int64_t kReserveLowWaterBytes = 1 << 20;
// The reserve is spent this much at a time, so that a writer racing for the space takes at most
// one step before its own writes fail.
constexpr int64_t kReserveStepBytes = 2 << 20;

class SpaceReserve {
public:
  // path: the reserve file. bytes == 0: no reserve (every call is a no-op).
  SpaceReserve(std::string path, int64_t bytes);

  // True when the reserve file holds all its bytes.
  bool held() const;
  // The bytes the reserve file holds (allocated blocks).
  int64_t heldBytes() const;
  // Bytes free for unprivileged writers on the reserve's file system (-1 when unknown).
  int64_t freeBytes() const;

  // Before a transaction: gives a step of the reserve back when the file system is nearly
  // full. Returns true when it did.
  bool spendIfLow();
  // Gives a step of the reserve back now (after a write met a full disk). Returns true when
  // there was something to give.
  bool spend();
  // After a transaction: takes the whole reserve again when there is room for what is missing
  // and as much as the reserve beside. Returns true when it did.
  bool refillIfRoom();

private:
  std::string path_;
  int64_t bytes_;
};

// The reserve file of the store at storePath.
std::string reservePathFor(const std::string& storePath);

// For actions that add data to the data directory (launching an instance, importing an image):
// OK when the reserve (of reserveBytes) of the store at storePath is whole and at least as much
// again is free; otherwise an error with `code` naming the full file system and how to free
// it. No store file at storePath (":memory:", empty, tests without one): OK.
Status checkRoomForNewData(const std::string& storePath, const std::string& code,
                           const std::string& what, int64_t reserveBytes = kDefaultReserveBytes);

} // namespace tide::store
