#include "events/event_stream.h"

#include "common/log.h"

#include <charconv>
#include <nlohmann/json.hpp>

namespace tide::events {

namespace {

// The raw value of a query parameter, or nullopt (the values here are numbers and words: no
// percent-decoding needed, and one that needs it is refused as not a number).
std::optional<std::string> queryParam(const std::string& target, std::string_view name) {
  size_t q = target.find('?');
  if (q == std::string::npos) {
    return std::nullopt;
  }
  std::string_view query(target);
  query.remove_prefix(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    if (key == name) {
      return std::string(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) {
      break;
    }
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::optional<uint64_t> parseCount(const std::string& s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

api::HttpResponse error(int status, const std::string& code, const std::string& message) {
  api::HttpResponse r;
  r.status = status;
  r.body = nlohmann::json{{"__type", code}, {"message", message}}.dump();
  return r;
}

} // namespace

EventStream::EventStream(EventLoop& loop, EventJournal& journal, const api::AuthConfig* auth,
                         Millis keepAlive)
    : loop_(loop), journal_(journal), auth_(auth), keepAliveEvery_(keepAlive) {}

EventStream::~EventStream() {
  if (keepAliveTimer_ != 0) {
    loop_.cancel(keepAliveTimer_);
  }
  for (auto& [id, client] : clients_) {
    journal_.unsubscribe(client.second);
    client.first->onClose(nullptr);
  }
}

bool EventStream::handles(const std::string& target) {
  return target == "/events" || target.rfind("/events?", 0) == 0;
}

std::string EventStream::sseFrame(const Event& event) {
  std::string out;
  out.reserve(event.json.size() + event.detailType.size() + 40);
  out += "id: ";
  out += std::to_string(event.seq);
  out += "\nevent: ";
  out += event.detailType;
  out += "\ndata: ";
  out += event.json; // one line: JSON strings escape their newlines
  out += "\n\n";
  return out;
}

api::HttpResponse EventStream::handle(const api::HttpRequest& request) {
  if (request.method != "GET" && request.method != "HEAD") {
    api::HttpResponse r = error(405, "MethodNotAllowed", "/events answers GET only");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  Status allowed = api::authorizeViewer(auth_, request);
  if (!allowed.isOk()) {
    return error(403, allowed.code(), allowed.message());
  }
  // Where the replay starts: Last-Event-ID, else ?since=, else the newest ?replay=N (or none).
  std::optional<uint64_t> since;
  std::optional<uint64_t> replay;
  if (const std::string* last = request.header("last-event-id")) {
    since = parseCount(*last);
    if (!since) {
      return error(400, "ValidationError", "Last-Event-ID must be an event's sequence number");
    }
  }
  if (!since) {
    if (auto v = queryParam(request.target, "since")) {
      since = parseCount(*v);
      if (!since) {
        return error(400, "ValidationError", "since must be an event's sequence number");
      }
    }
  }
  if (auto v = queryParam(request.target, "replay")) {
    replay = parseCount(*v);
    if (!replay) {
      return error(400, "ValidationError", "replay must be a number of events");
    }
  }
  std::string format = queryParam(request.target, "format").value_or("sse");
  if (format != "sse" && format != "json") {
    return error(400, "ValidationError", "format must be sse or json");
  }
  std::vector<Event> backlog;
  if (since) {
    backlog = journal_.after(*since);
  } else if (replay) {
    backlog = journal_.newest(*replay);
  } else if (format == "json") {
    backlog = journal_.after(0); // polling without a start: the whole ring
  }

  api::HttpResponse r;
  if (format == "json") {
    std::string body = "[";
    for (size_t i = 0; i < backlog.size(); ++i) {
      body += i == 0 ? "" : ",";
      body += EventJournal::logLine(backlog[i]);
    }
    body += "]";
    r.body = std::move(body);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }
  r.contentType = "text/event-stream";
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("X-Accel-Buffering", "no");
  // A first comment so that clients see the stream open before any event.
  r.body = ": tide events, last seq " + std::to_string(journal_.lastSeq()) + "\nretry: 1000\n\n";
  for (const Event& e : backlog) {
    r.body += sseFrame(e);
  }
  r.stream = [this](std::shared_ptr<api::HttpStream> stream) {
    uint64_t id = nextClient_++;
    uint64_t subscription = journal_.subscribe([this, id](const Event& e) {
      auto it = clients_.find(id);
      if (it != clients_.end()) {
        // A copy: a client dropped by send() leaves clients_ (onClose) while send() runs.
        std::shared_ptr<api::HttpStream> client = it->second.first;
        client->send(sseFrame(e));
      }
    });
    clients_.emplace(id, std::make_pair(stream, subscription));
    stream->onClose([this, id] {
      auto it = clients_.find(id);
      if (it != clients_.end()) {
        journal_.unsubscribe(it->second.second);
        clients_.erase(it);
      }
    });
    if (!stream->isOpen()) { // closed while its head was written
      journal_.unsubscribe(subscription);
      clients_.erase(id);
      return;
    }
    if (keepAliveTimer_ == 0) {
      keepAliveTimer_ = loop_.runAfter(keepAliveEvery_, [this] { keepAlive(); });
    }
  };
  return r;
}

void EventStream::keepAlive() {
  keepAliveTimer_ = 0;
  std::vector<std::shared_ptr<api::HttpStream>> streams;
  for (auto& [id, client] : clients_) {
    streams.push_back(client.first);
  }
  for (auto& s : streams) {
    s->send(": keep-alive\n\n");
  }
  if (!clients_.empty()) {
    keepAliveTimer_ = loop_.runAfter(keepAliveEvery_, [this] { keepAlive(); });
  }
}

} // namespace tide::events
