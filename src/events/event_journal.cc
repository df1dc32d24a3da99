#include "events/event_journal.h"

#include "common/log.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace tide::events {

namespace fs = std::filesystem;

EventJournal::EventJournal(EventJournalOptions options) : options_(std::move(options)) {
  if (options_.ringSize == 0) {
    options_.ringSize = 1;
  }
}

EventJournal::~EventJournal() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

std::string EventJournal::currentFile() const {
  return options_.directory + "/events.jsonl";
}

std::string EventJournal::logLine(const Event& event) {
  return "{\"seq\":" + std::to_string(event.seq) + ",\"event\":" + event.json + "}";
}

Status EventJournal::open() {
  if (options_.directory.empty()) {
    return Status::ok();
  }
  std::error_code ec;
  fs::create_directories(options_.directory, ec);
  if (ec) {
    return internalError("cannot create " + options_.directory + ": " + ec.message());
  }
  ::chmod(options_.directory.c_str(), 0700);
  readBack();
  std::string path = currentFile();
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    return internalError("cannot open " + path + ": " + std::strerror(errno));
  }
  ::fchmod(fd_, 0600);
  struct stat st {};
  fileBytes_ = ::fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  return Status::ok();
}

// The current file's events back into the ring; the last seq from it, or from the newest rotated
// file when the current one is empty. Lines that do not parse (a torn last write) are skipped.
void EventJournal::readBack() {
  for (const std::string& path : {currentFile(), currentFile() + ".1"}) {
    std::ifstream in(path);
    if (!in) {
      continue;
    }
    bool intoRing = path == currentFile();
    std::string line;
    while (std::getline(in, line)) {
      EventJson record = EventJson::parse(line, nullptr, false); // keys kept in order
      if (record.is_discarded() || !record.is_object() || !record.contains("seq") ||
          !record["seq"].is_number_unsigned() || !record.contains("event") ||
          !record["event"].is_object()) {
        continue;
      }
      Event e;
      e.seq = record["seq"].get<uint64_t>();
      e.detailType = record["event"].value("detail-type", "");
      seq_ = std::max(seq_, e.seq);
      if (intoRing) {
        e.json = record["event"].dump();
        remember(std::move(e));
      }
    }
    if (seq_ > 0) {
      return;
    }
  }
}

void EventJournal::remember(Event event) {
  ring_.push_back(std::move(event));
  while (ring_.size() > options_.ringSize) {
    ring_.pop_front();
  }
}

Event EventJournal::append(const EventJson& json) {
  Event e;
  e.seq = ++seq_;
  e.detailType = json.value("detail-type", "");
  e.json = json.dump();
  remember(e);
  if (fd_ >= 0) {
    write(logLine(e) + "\n");
  }
  // A copy of the ids: callbacks may unsubscribe (themselves or others) or subscribe.
  std::vector<uint64_t> ids;
  ids.reserve(subscribers_.size());
  for (const auto& [id, s] : subscribers_) {
    ids.push_back(id);
  }
  for (uint64_t id : ids) {
    auto it = subscribers_.find(id);
    if (it != subscribers_.end()) {
      Subscriber s = it->second; // alive even if it unsubscribes itself
      s(e);
    }
  }
  return e;
}

void EventJournal::write(const std::string& line) {
  if (fileBytes_ > 0 && fileBytes_ + line.size() > options_.maxFileBytes) {
    rotate();
    if (fd_ < 0) {
      return;
    }
  }
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(fd_, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      if (!writeErrorLogged_) {
        logError("events: cannot write " + currentFile() + ": " + std::strerror(errno) +
                 " (events still reach the stream)");
        writeErrorLogged_ = true;
      }
      return;
    }
    off += static_cast<size_t>(n);
  }
  fileBytes_ += line.size();
}

// events.jsonl.(N-1) → .N, ..., events.jsonl → .1; the oldest beyond keepFiles is removed.
void EventJournal::rotate() {
  ::close(fd_);
  fd_ = -1;
  std::string base = currentFile();
  std::error_code ec;
  int keep = std::max(options_.keepFiles, 0);
  fs::remove(base + "." + std::to_string(keep + 1), ec);
  if (keep == 0) {
    fs::remove(base, ec);
  }
  for (int i = keep - 1; i >= 1; --i) {
    fs::rename(base + "." + std::to_string(i), base + "." + std::to_string(i + 1), ec);
  }
  if (keep >= 1) {
    fs::rename(base, base + ".1", ec);
  }
  fd_ = ::open(base.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    logError("events: cannot open " + base + ": " + std::strerror(errno));
  }
  fileBytes_ = 0;
}

std::vector<Event> EventJournal::after(uint64_t seq) const {
  std::vector<Event> out;
  // The ring is in seq order: find the first one past seq from the back.
  auto it = ring_.end();
  while (it != ring_.begin() && std::prev(it)->seq > seq) {
    --it;
  }
  out.assign(it, ring_.end());
  return out;
}

std::vector<Event> EventJournal::newest(size_t n) const {
  n = std::min(n, ring_.size());
  return std::vector<Event>(ring_.end() - static_cast<std::ptrdiff_t>(n), ring_.end());
}

uint64_t EventJournal::subscribe(Subscriber subscriber) {
  uint64_t id = nextSubscriber_++;
  subscribers_.emplace(id, std::move(subscriber));
  return id;
}

void EventJournal::unsubscribe(uint64_t id) {
  subscribers_.erase(id);
}

} // namespace tide::events
