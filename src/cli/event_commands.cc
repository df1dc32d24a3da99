// `tide events [--follow] [--since SEQ] [--json]`: the server's events (docs/events.md), one a
// line, as text for people or as the EventBridge-shaped JSON. Without --follow it asks
// GET /events?format=json once; with it, it reads the Server-Sent Events stream until SIGINT or
// SIGTERM (exit 0) or until the server goes away (a message, exit 3).
#include "api/http.h"
#include "cli/commands.h"
#include "cli/event_text.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tide::cli {

namespace {

volatile std::sig_atomic_t gStop = 0;

extern "C" void stopFollowing(int) {
  gStop = 1;
}

// Parsed keeping the keys in the server's (AWS's) order.
using OrderedJson = nlohmann::ordered_json;

void printEvent(uint64_t seq, const OrderedJson& event, bool json) {
  if (json) {
    std::printf("%s\n", event.dump().c_str());
  } else {
    std::printf("%s\n", eventText(seq, Json::parse(event.dump())).c_str());
  }
  std::fflush(stdout);
}

// An error answer ({"__type", "message"}) as a Status.
Status errorOf(int status, const std::string& body) {
  Json j = Json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("__type")) {
    return Status(j.value("__type", "HTTP" + std::to_string(status)),
                  j.value("message", std::string("no message")));
  }
  return Status("HTTP" + std::to_string(status), "the server answered " + std::to_string(status));
}

void listOnce(const ApiClient& api, uint64_t since, bool json) {
  api::HttpRequest req;
  req.method = "GET";
  req.target = "/events?format=json&since=" + std::to_string(since);
  req.headers = {{"host", api.host() + ":" + std::to_string(api.port())}};
  std::string token = api.viewerToken();
  if (!token.empty()) {
    req.headers.emplace_back("authorization", "Bearer " + token);
  }
  auto resp = api::httpRequest(api.host(), api.port(), req, Millis(30'000));
  if (!resp) {
    die(resp.status().code() == "EndpointConnectionError"
            ? Status("EndpointConnectionError", "cannot reach the tide server at " +
                                                    api.endpoint() + " (is `tide server` running?)")
            : resp.status());
  }
  if (resp->status != 200) {
    die(errorOf(resp->status, resp->body));
  }
  OrderedJson records = OrderedJson::parse(resp->body, nullptr, false);
  if (!records.is_array()) {
    die(internalError("the server's /events answer is not a JSON array"));
  }
  for (const OrderedJson& r : records) {
    printEvent(r.value("seq", uint64_t(0)), r.value("event", OrderedJson::object()), json);
  }
}

// Connects to host:port; -1 (errno set) on failure.
int connectTo(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) {
    return -1;
  }
  int fd = -1;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd >= 0 && ::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      break;
    }
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(res);
  return fd;
}

// Reads the stream, printing each event. Returns the exit code.
int follow(const ApiClient& api, std::optional<uint64_t> since, bool json) {
  SignalScope signals(stopFollowing); // SIGINT and SIGTERM set gStop while it follows
  int fd = connectTo(api.host(), api.port());
  if (fd < 0) {
    die(Status("EndpointConnectionError", "cannot reach the tide server at " + api.endpoint() +
                                              " (is `tide server` running?)"));
  }
  std::string request = "GET /events" + (since ? "?since=" + std::to_string(*since) : "") +
                        " HTTP/1.1\r\nHost: " + api.host() + ":" + std::to_string(api.port()) +
                        "\r\nAccept: text/event-stream\r\nConnection: close\r\n";
  std::string token = api.viewerToken();
  if (!token.empty()) {
    request += "Authorization: Bearer " + token + "\r\n";
  }
  request += "\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size())) {
    ::close(fd);
    die(Status("EndpointConnectionError", "cannot send to the tide server at " + api.endpoint()));
  }
  std::string buf;
  bool headDone = false;
  int status = 0;
  uint64_t seq = 0;
  std::string data;
  while (gStop == 0) {
    pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, 1000);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      continue;
    }
    char chunk[16 * 1024];
    ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      ::close(fd);
      if (!headDone || status != 200) {
        size_t end = buf.find("\r\n\r\n");
        die(errorOf(status, end == std::string::npos ? "" : buf.substr(end + 4)));
      }
      std::fprintf(stderr, "tide: the server at %s ended the event stream (stopped?)\n",
                   api.endpoint().c_str());
      return 3;
    }
    buf.append(chunk, size_t(got));
    if (!headDone) {
      size_t end = buf.find("\r\n\r\n");
      if (end == std::string::npos) {
        continue;
      }
      status = buf.size() >= 12 ? std::atoi(buf.substr(9, 3).c_str()) : 0;
      if (status != 200) {
        continue; // read the error body to EOF (the answer has a Content-Length; it is short)
      }
      headDone = true;
      buf.erase(0, end + 4);
      // The readiness line (scripts wait for it): the server now sends every new event.
      std::fprintf(stderr, "tide: following the events of %s (Ctrl-C ends)\n",
                   api.endpoint().c_str());
    }
    if (status != 200) {
      continue;
    }
    // Server-Sent Events: lines; a blank line ends an event.
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      }
      if (line.empty()) {
        if (!data.empty()) {
          OrderedJson event = OrderedJson::parse(data, nullptr, false);
          if (!event.is_discarded()) {
            printEvent(seq, event, json);
          }
        }
        data.clear();
        continue;
      }
      if (line.rfind("id: ", 0) == 0) {
        seq = std::strtoull(line.c_str() + 4, nullptr, 10);
      } else if (line.rfind("data: ", 0) == 0) {
        data += line.substr(6);
      }
      // "event:", "retry:" and ": comments" need nothing here.
    }
  }
  ::close(fd);
  return 0;
}

} // namespace

void addEventCommands(CLI::App& app, CommandContext& ctx) {
  auto* events = app.add_subcommand(
      "events", "the server's events (instance states, launches, target health, alarms)");
  struct Options {
    bool follow = false;
    std::optional<uint64_t> since;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  events->add_flag("--follow,-f", o->follow, "keep printing new events until Ctrl-C");
  events->add_option("--since", o->since,
                     "only events after this sequence number (default: every one the server "
                     "keeps; with --follow, only new ones)");
  events->add_flag("--json", o->json, "print each event as its EventBridge-shaped JSON");
  events->callback([o, &ctx] {
    ApiClient api = ctx.client();
    if (o->follow) {
      std::exit(follow(api, o->since, o->json));
    }
    listOnce(api, o->since.value_or(0), o->json);
  });
}

} // namespace tide::cli
