// GET /events on the API port: the event journal as Server-Sent Events, or as JSON for polling.
//
//   GET /events                   text/event-stream; each event as
//                                   id: <seq>\nevent: <detail-type>\ndata: <event JSON>\n\n
//                                 first the ring's events after Last-Event-ID (header) or
//                                 ?since=SEQ, or the newest ?replay=N (default: none, only new
//                                 ones), then each new event as it happens; ": keep-alive"
//                                 comments every keepAlive.
//   GET /events?format=json&since=SEQ
//                                 a JSON array of {"seq": N, "event": {...}} after SEQ (or the
//                                 newest ?replay=N), at once.
//
// Access: api::authorizeViewer (the viewer token as bearer, cookie or `token` query parameter).
// Not thread-safe: on the control loop's thread only. Destroy the HTTP server (which closes the
// streams) before this.
#pragma once

#include "api/auth.h"
#include "api/http.h"
#include "common/event_loop.h"
#include "events/event_journal.h"

#include <map>
#include <memory>
#include <optional>
#include <string>

namespace tide::events {

class EventStream {
public:
  EventStream(EventLoop& loop, EventJournal& journal, const api::AuthConfig* auth,
              Millis keepAlive = Millis(15'000));
  ~EventStream();
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // Whether a request target is this endpoint's ("/events", with or without a query).
  static bool handles(const std::string& target);
  // Answers a request for /events.
  api::HttpResponse handle(const api::HttpRequest& request);

  // The clients connected now.
  size_t clients() const { return clients_.size(); }

  // One event as the stream sends it.
  static std::string sseFrame(const Event& event);

private:
  void keepAlive();

  EventLoop& loop_;
  EventJournal& journal_;
  const api::AuthConfig* auth_;
  Millis keepAliveEvery_;
  EventLoop::TimerId keepAliveTimer_ = 0;
  uint64_t nextClient_ = 1;
  // By client id: the stream and its journal subscription.
  std::map<uint64_t, std::pair<std::shared_ptr<api::HttpStream>, uint64_t>> clients_;
};

} // namespace tide::events
