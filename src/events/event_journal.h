// The event bus's memory and record: every event gets the next sequence number, stays in a ring
// of the newest ones (for replay to clients that connect or reconnect), goes to the subscribers
// (the /events streams) and is appended to a rotating JSON-lines log in the data directory:
//
//   <data>/events/events.jsonl     the current file, one {"seq": N, "event": {...}} per line
//   <data>/events/events.jsonl.1   the previous one (rotated at maxFileBytes), .2 older, ...
//
// Files are mode 0600 (events name instances and groups), the directory 0700. At open() the
// ring is refilled from the current file and the sequence continues after its last event, so
// that a restart keeps the numbers increasing.
//
// Not thread-safe: use on the control loop's thread only.
#pragma once

#include "common/status.h"
#include "events/event.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace tide::events {

struct EventJournalOptions {
  size_t ringSize = 10'000;                 // newest events kept in memory for replay
  std::string directory;                    // where the log lives; empty: no log
  uint64_t maxFileBytes = 10 * 1024 * 1024; // rotate before the current file passes this
  int keepFiles = 3;                        // rotated files kept (events.jsonl.1 .. .N)
};

class EventJournal {
public:
  using Subscriber = std::function<void(const Event&)>;

  explicit EventJournal(EventJournalOptions options);
  ~EventJournal();
  EventJournal(const EventJournal&) = delete;
  EventJournal& operator=(const EventJournal&) = delete;

  // Creates the directory and opens the log, reading back what the current file holds. Without
  // a directory, does nothing. A log that cannot be written is an error here; later write
  // errors are logged and the events still go to the ring and the subscribers.
  Status open();

  // Records an event: the next seq, the ring, the log, then every subscriber in the order they
  // subscribed. Returns the event as kept.
  Event append(const EventJson& event);

  // The ring's events with seq > after, oldest first.
  std::vector<Event> after(uint64_t seq) const;
  // The ring's newest n events, oldest first.
  std::vector<Event> newest(size_t n) const;
  // The last seq given (0 before the first event).
  uint64_t lastSeq() const { return seq_; }
  size_t ringSize() const { return options_.ringSize; }

  // Subscribers may subscribe and unsubscribe (themselves or others) from within a callback.
  uint64_t subscribe(Subscriber subscriber);
  void unsubscribe(uint64_t id);

  // The log's current file ("<directory>/events.jsonl").
  std::string currentFile() const;
  // A log line: {"seq":N,"event":<event>} (no newline).
  static std::string logLine(const Event& event);

private:
  void remember(Event event);
  void write(const std::string& line);
  void rotate();
  void readBack();

  EventJournalOptions options_;
  uint64_t seq_ = 0;
  std::deque<Event> ring_;
  int fd_ = -1;
  uint64_t fileBytes_ = 0;
  bool writeErrorLogged_ = false;
  uint64_t nextSubscriber_ = 1;
  std::map<uint64_t, Subscriber> subscribers_;
};

} // namespace tide::events
