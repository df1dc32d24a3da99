#include "server/serve_static.h"

#include "api/http.h"
#include "api/wire/xml.h"
#include "common/event_loop.h"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace tide::server {

namespace wire = api::wire; // xmlEscape: XML escaping serves HTML as well

namespace {

std::string env(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && v[0] != '\0' ? std::string(v) : fallback;
}

void stopNow(int) {
  ::_exit(0); // nothing to flush: every answer is written as it is made
}

} // namespace

std::string baseImagePage(const std::string& instanceId, const std::string& instanceType,
                          const std::string& imageId, const std::string& address) {
  std::string id = wire::xmlEscape(instanceId);
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>" + id +
         "</title></head>\n<body>\n<h1>Hello from " + id + "</h1>\n<p>Instance <code>" + id +
         "</code> (" + wire::xmlEscape(instanceType) + ", image <code>" + wire::xmlEscape(imageId) +
         "</code>) answers on " + wire::xmlEscape(address) +
         ".</p>\n<p>It runs tide's base image: a static web server that needs nothing "
         "installed. Health check path: <a href=\"/health\">/health</a>.</p>\n</body>\n"
         "</html>\n";
}

int serveStaticMain(int argc, char** argv) {
  CLI::App app{"tide serve-static: the web server of tide's built-in base image",
               "tide serve-static"};
  std::string host = env("HOST", "0.0.0.0");
  int port = 80;
  try {
    port = std::stoi(env("PORT", "80"));
  } catch (const std::exception&) {
    std::fprintf(stderr, "tide serve-static: PORT='%s' is not a port number\n",
                 env("PORT", "").c_str());
    return 2;
  }
  app.add_option("--host", host, "address to listen on (default: $HOST, else 0.0.0.0)");
  app.add_option("--port", port, "port to listen on (default: $PORT, else 80)")
      ->check(CLI::Range(0, 65535));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "tide serve-static: port %d is not a port number\n", port);
    return 2;
  }
  std::signal(SIGTERM, stopNow);
  std::signal(SIGINT, stopNow);
  std::signal(SIGPIPE, SIG_IGN);

  const std::string instanceId = env("TIDE_INSTANCE_ID", "local");
  const std::string page =
      baseImagePage(instanceId, env("TIDE_INSTANCE_TYPE", "no instance type"),
                    env("TIDE_IMAGE_ID", "no image"), host + ":" + std::to_string(port));
  EventLoop loop;
  api::HttpServer http(loop, api::HttpServerOptions{}, [&](const api::HttpRequest& r) {
    api::HttpResponse resp;
    std::string path = r.target.substr(0, r.target.find('?'));
    resp.contentType = "text/plain; charset=utf-8";
    if (r.method != "GET" && r.method != "HEAD") {
      resp.status = 405;
      resp.headers.emplace_back("Allow", "GET, HEAD");
      resp.body = "method not allowed\n";
    } else if (path == "/" || path == "/index.html") {
      resp.contentType = "text/html; charset=utf-8";
      resp.body = page;
    } else if (path == "/health") {
      resp.body = "ok\n";
    } else {
      resp.status = 404;
      resp.body = "not found: this server answers / and /health\n";
    }
    if (r.method == "HEAD") {
      resp.body.clear();
    }
    return resp;
  });
  Result<uint16_t> bound = http.listen(host, static_cast<uint16_t>(port));
  if (!bound) {
    std::fprintf(stderr, "tide serve-static: cannot listen on %s:%d: %s\n", host.c_str(), port,
                 bound.status().message().c_str());
    return 1;
  }
  std::printf("tide serve-static: instance %s serving on http://%s:%u/ (health: /health)\n",
              instanceId.c_str(), host.c_str(), *bound);
  std::fflush(stdout);
  loop.run();
  return 0;
}

} // namespace tide::server
