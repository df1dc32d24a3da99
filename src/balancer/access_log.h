// The access log: one line per request in the field order of ALB's access log entries
// (docs/load-balancer.md "Access log"), written off the request path.
//
// Workers format entries into their own buffer (formatAccessLogEntry) and hand full or aged
// buffers to the AccessLogWriter with submit(), which never blocks and never does I/O: it takes
// the batch when its lock is free and its queue has room, and otherwise says no (the worker keeps
// the batch, or drops it when its own buffer is full, and counts what it dropped). A background
// thread appends queued batches to their files every flush interval or when the queue is half
// full.
#pragma once

#include "balancer/snapshot.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace tide::balancer {

// What one entry says. Fields tide does not have are written as "-" (or -1 for times).
struct AccessLogEntry {
  int64_t timeUs = 0;               // wall clock (us since the epoch) when the response was sent
  int64_t requestCreationUs = 0;    // wall clock when the request's head was complete
  std::string_view loadBalancerArn; // the "elb" field is its resource id, app/NAME/ID
  std::string_view loadBalancerName;
  uint32_t clientAddress = 0; // client ip and port (host byte order)
  uint16_t clientPort = 0;
  bool hasTarget = false; // a target was chosen (target:port, times, status)
  Endpoint target;
  double requestProcessingSeconds = -1;  // head complete -> sent to the target; -1: not sent
  double targetProcessingSeconds = -1;   // sent -> response head from the target; -1: none
  double responseProcessingSeconds = -1; // response head -> handed to the client; -1: none
  int elbStatus = 0;                     // status sent to the client; 0: "-" (none sent)
  int targetStatus = 0;                  // status from the target; 0: "-"
  uint64_t receivedBytes = 0;            // request bytes from the client (head and body)
  uint64_t sentBytes = 0;                // response bytes to the client
  std::string_view method;               // empty: the request line could not be parsed
  std::string_view requestTarget;        // as received (origin or absolute form)
  int versionMinor = 1;                  // HTTP/1.x
  std::string_view host;                 // Host header (empty: none)
  uint16_t listenerPort = 0;             // for the request URL
  std::string_view userAgent;            // empty: "-"
  std::string_view targetGroupArn;       // empty: "-"
  std::string_view actionsExecuted;      // "forward", "fixed-response", "redirect" (empty: "-")
  int matchedRulePriority = -1;          // 0: the default rule; -1: "-" (no rule was evaluated)
  std::string_view redirectUrl;          // the Location of a redirect (empty: "-")
  std::string_view errorReason;          // empty: "-"
  std::string_view classification;       // desync tier when not Compliant (empty: "-")
  std::string_view classificationReason; // its reason (empty: "-")
  bool webSocket = false;                // an upgraded connection (type "ws"), logged at close
  bool http2 = false;                    // a stream of an HTTP/2 connection: type "h2", the
                                         // request line's version HTTP/2.0
  bool grpc = false;                     // with http2: forwarded to a GRPC target group, type
                                         // "grpcs" (gRPC over TLS), as ALB logs it
  bool https = false;                    // on an HTTPS listener: type "https" ("wss"), the TLS
                                         // fields below and an https:// request URL
  std::string_view sslCipher;            // OpenSSL's name of the cipher (empty: "-")
  std::string_view sslProtocol;          // "TLSv1.2", "TLSv1.3" (empty: "-")
  std::string_view domainName;           // the SNI name the client sent (empty: "-")
  std::string_view chosenCertArn;        // the certificate served (empty: "-")
};

// Appends one entry, newline-terminated, to out. Quoted fields escape '"', '\\', control and
// non-ASCII bytes as \xHH, so that a line always splits the same way.
void formatAccessLogEntry(const AccessLogEntry& e, std::string& out);

struct AccessLogOptions {
  std::chrono::milliseconds flushInterval{2000}; // the writer appends queued lines this often
  size_t maxQueuedBytes = 16 * 1024 * 1024;      // more waiting for the writer: batches dropped
};

// Thread-safety: submit() and droppedLines() from any thread; start() and stop() from the owner.
class AccessLogWriter {
public:
  explicit AccessLogWriter(AccessLogOptions options = {});
  ~AccessLogWriter(); // stop()s
  AccessLogWriter(const AccessLogWriter&) = delete;
  AccessLogWriter& operator=(const AccessLogWriter&) = delete;

  void start(); // starts the background thread (idempotent)
  // Takes `lines` (whole lines) for the file at `path` when it can without waiting: true when
  // taken (lines is then empty); false when the lock is busy or the queue is full. `wait`: take
  // the lock even if busy (for a worker's last handover, never on the request path).
  bool submit(const std::string& path, std::string& lines, bool wait = false);
  // Counts lines the caller had to drop (its buffer full and the writer behind).
  void countDropped(uint64_t lines) { dropped_.fetch_add(lines, std::memory_order_relaxed); }
  uint64_t droppedLines() const { return dropped_.load(std::memory_order_relaxed); }
  // Writes everything queued, then ends the thread and closes the files. Idempotent.
  void stop();

private:
  struct Batch {
    std::string path;
    std::string lines;
  };
  void run();
  void writeBatches(std::vector<Batch>& batches);

  AccessLogOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Batch> queue_; // GUARDED_BY(mu_)
  size_t queuedBytes_ = 0;   // GUARDED_BY(mu_)
  bool stopping_ = false;    // GUARDED_BY(mu_)
  std::thread thread_;
  std::map<std::string, int> files_; // writer thread only: open files by path
  std::atomic<uint64_t> dropped_{0};
};

} // namespace tide::balancer
