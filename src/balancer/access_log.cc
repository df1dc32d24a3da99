#include "balancer/access_log.h"

#include "common/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>

namespace tide::balancer {
namespace {

void appendTime(std::string& out, int64_t us) {
  time_t secs = static_cast<time_t>(us / 1'000'000);
  tm t{};
  gmtime_r(&secs, &t);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, unsigned(us % 1'000'000));
  out += buf;
}

void appendEndpoint(std::string& out, uint32_t address, uint16_t port) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u:%u", address >> 24, (address >> 16) & 0xff,
                (address >> 8) & 0xff, address & 0xff, unsigned(port));
  out += buf;
}

void appendSeconds(std::string& out, double s) {
  if (s < 0) {
    out += "-1";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  out += buf;
}

void appendStatus(std::string& out, int status) {
  if (status <= 0) {
    out += '-';
  } else {
    out += std::to_string(status);
  }
}

// Bytes from the network, made safe inside a quoted field.
void appendEscaped(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += char(c);
    }
  }
}

void appendQuoted(std::string& out, std::string_view s) {
  out += '"';
  if (s.empty()) {
    out += '-';
  } else {
    appendEscaped(out, s);
  }
  out += '"';
}

// "app/NAME/ID" from arn:...:loadbalancer/app/NAME/ID.
void appendElb(std::string& out, std::string_view arn, std::string_view name) {
  size_t p = arn.find(":loadbalancer/");
  if (p != std::string_view::npos) {
    out += arn.substr(p + 14);
  } else {
    out += "app/";
    out += name;
    out += "/-";
  }
}

} // namespace

void formatAccessLogEntry(const AccessLogEntry& e, std::string& out) {
  out += e.http2   ? (e.grpc ? "grpcs " : "h2 ")
         : e.https ? (e.webSocket ? "wss " : "https ")
                   : (e.webSocket ? "ws " : "http ");
  appendTime(out, e.timeUs);
  out += ' ';
  appendElb(out, e.loadBalancerArn, e.loadBalancerName);
  out += ' ';
  appendEndpoint(out, e.clientAddress, e.clientPort);
  out += ' ';
  if (e.hasTarget) {
    appendEndpoint(out, e.target.address, e.target.port);
  } else {
    out += '-';
  }
  out += ' ';
  appendSeconds(out, e.requestProcessingSeconds);
  out += ' ';
  appendSeconds(out, e.targetProcessingSeconds);
  out += ' ';
  appendSeconds(out, e.responseProcessingSeconds);
  out += ' ';
  appendStatus(out, e.elbStatus);
  out += ' ';
  appendStatus(out, e.targetStatus);
  out += ' ' + std::to_string(e.receivedBytes) + ' ' + std::to_string(e.sentBytes) + " \"";
  if (e.method.empty()) {
    out += "- - - ";
  } else {
    // METHOD http://host:port/path HTTP/1.x, as ALB writes the request line.
    appendEscaped(out, e.method);
    out += ' ';
    if (!e.requestTarget.empty() && e.requestTarget.front() == '/') {
      std::string_view host = e.host;
      if (!host.empty() && host.front() != '[') {
        host = host.substr(0, host.find(':'));
      } else if (!host.empty()) {
        host = host.substr(0, host.find(']') + 1);
      }
      out += e.https ? "https://" : "http://";
      appendEscaped(out, host.empty() ? std::string_view("-") : host);
      out += ':' + std::to_string(e.listenerPort);
    }
    appendEscaped(out, e.requestTarget);
    out += e.http2 ? " HTTP/2.0" : e.versionMinor == 0 ? " HTTP/1.0" : " HTTP/1.1";
  }
  out += "\" ";
  appendQuoted(out, e.userAgent);
  out += ' '; // ssl_cipher ssl_protocol
  out += e.sslCipher.empty() ? std::string_view("-") : e.sslCipher;
  out += ' ';
  out += e.sslProtocol.empty() ? std::string_view("-") : e.sslProtocol;
  out += ' ';
  out += e.targetGroupArn.empty() ? std::string_view("-") : e.targetGroupArn;
  out += " \"-\" "; // "trace_id"
  appendQuoted(out, e.domainName);
  out += ' ';
  appendQuoted(out, e.chosenCertArn);
  out += ' ';
  if (e.matchedRulePriority < 0) {
    out += '-';
  } else {
    out += std::to_string(e.matchedRulePriority);
  }
  out += ' ';
  appendTime(out, e.requestCreationUs);
  out += ' ';
  appendQuoted(out, e.actionsExecuted);
  out += ' ';
  appendQuoted(out, e.redirectUrl);
  out += ' ';
  appendQuoted(out, e.errorReason);
  out += " \"";
  if (e.hasTarget) {
    appendEndpoint(out, e.target.address, e.target.port);
  } else {
    out += '-';
  }
  out += "\" \"";
  appendStatus(out, e.hasTarget ? e.targetStatus : 0);
  out += "\" ";
  appendQuoted(out, e.classification);
  out += ' ';
  appendQuoted(out, e.classificationReason);
  out += " -\n"; // conn_trace_id
}

AccessLogWriter::AccessLogWriter(AccessLogOptions options) : options_(options) {}

AccessLogWriter::~AccessLogWriter() {
  stop();
}

void AccessLogWriter::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!thread_.joinable() && !stopping_) {
    thread_ = std::thread([this] { run(); });
  }
}

bool AccessLogWriter::submit(const std::string& path, std::string& lines, bool wait) {
  if (lines.empty()) {
    return true;
  }
  std::unique_lock<std::mutex> lock(mu_, std::defer_lock);
  if (wait) {
    lock.lock();
  } else {
    lock.try_lock();
  }
  if (!lock.owns_lock() || queuedBytes_ + lines.size() > options_.maxQueuedBytes) {
    return false;
  }
  queuedBytes_ += lines.size();
  queue_.push_back(Batch{path, std::move(lines)});
  lines.clear();
  if (queuedBytes_ > options_.maxQueuedBytes / 2) {
    cv_.notify_one();
  }
  return true;
}

void AccessLogWriter::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) {
    thread_.join();
  }
  std::vector<Batch> rest;
  {
    std::lock_guard<std::mutex> lock(mu_);
    rest.swap(queue_);
    queuedBytes_ = 0;
  }
  writeBatches(rest); // batches submitted after the thread ended (or without one)
  for (auto& [path, fd] : files_) {
    ::close(fd);
  }
  files_.clear();
}

void AccessLogWriter::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait_for(lock, options_.flushInterval,
                 [this] { return stopping_ || queuedBytes_ > options_.maxQueuedBytes / 2; });
    std::vector<Batch> batches;
    batches.swap(queue_);
    queuedBytes_ = 0;
    bool stopping = stopping_;
    lock.unlock();
    writeBatches(batches);
    lock.lock();
    if (stopping) {
      return;
    }
  }
}

void AccessLogWriter::writeBatches(std::vector<Batch>& batches) {
  for (Batch& b : batches) {
    auto it = files_.find(b.path);
    if (it == files_.end()) {
      std::error_code ec;
      std::filesystem::path parent = std::filesystem::path(b.path).parent_path();
      if (!parent.empty()) {
        std::filesystem::create_directories(parent, ec);
      }
      // Client addresses are personal data: the owner reads the log (ALB writes to a
      // private bucket).
      int fd = ::open(b.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0) {
        logWarn("access log: cannot open " + b.path + ": " + std::strerror(errno));
        size_t lines = 0;
        for (char c : b.lines) {
          lines += c == '\n';
        }
        countDropped(lines);
        continue;
      }
      it = files_.emplace(b.path, fd).first;
    }
    const char* p = b.lines.data();
    size_t left = b.lines.size();
    while (left > 0) {
      ssize_t n = ::write(it->second, p, left);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        logWarn("access log: cannot write " + b.path + ": " + std::strerror(errno));
        break;
      }
      p += n;
      left -= size_t(n);
    }
  }
  batches.clear();
}

} // namespace tide::balancer
