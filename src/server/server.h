// `tide server`: wires the store, the runtime, the controllers and the API on the control
// thread's event loop, and runs until SIGTERM or SIGINT.
//
// Instances keep running when the server stops (or dies): their processes are in sessions of
// their own, and the next server on the same data directory finds them again by process id and
// start time. Only one server may use a data directory at a time (a lock file says which).
#pragma once

#include "common/clock.h"
#include "common/data_dir.h"

#include <string>

namespace tide::server {

struct ServerOptions {
  std::string dataDir;                            // state, images, instances; created if absent
  std::string apiHost = "127.0.0.1";              // where the API listens
  uint16_t apiPort = 4566;                        // 0 picks a free port (printed at start)
  double maxCpuCores = 0;                         // capacity limit; 0: 4 x the machine's cores
  Millis terminationGrace = Millis(10'000);       // SIGTERM to SIGKILL when stopping instances
  Millis terminatedRetention = Millis(3'600'000); // terminated instances stay listed this long
  int metricRetentionSeconds = 3 * 3600;          // 1 s metric data kept (CloudWatch: 3 hours)
  unsigned balancerThreads = 0;                   // load balancer workers; 0: one per core
  std::string cgroupMode = "auto";                // auto, v1, v2, none
  std::string diskMode = "auto";                  // auto, overlay, copy
  std::string addressRegistry;                    // host-wide address claims; empty: default
  bool authNone = false;                          // accept any request, signed or not (loopback
                                                  // only); else SigV4 with <dataDir>/credentials
  std::string region = "us-east-1";               // unsigned requests' region (signed: their own)
  std::string accountId = "000000000000";         // the account in ARNs and GetCallerIdentity
};

using tide::defaultDataDir; // common/data_dir.h

// Runs the server; returns the process exit code (0 after a clean stop).
int runServer(const ServerOptions& options);

// Parses `tide server` flags (argv[0] is "server") and runs it.
int serverMain(int argc, char** argv);

} // namespace tide::server
