#include "server/server.h"

#include "api/auth.h"
#include "api/dispatch.h"
#include "api/http.h"
#include "api/request_semantics.h"
#include "balancer/balancer.h"
#include "common/event_loop.h"
#include "common/log.h"
#include "console/console.h"
#include "control/alarm_controller.h"
#include "control/auto_scaling_controller.h"
#include "control/health_checker.h"
#include "control/image_controller.h"
#include "control/instance_controller.h"
#include "control/metrics_publisher.h"
#include "control/predictive_scaling_controller.h"
#include "control/publisher.h"
#include "control/reconcile_scheduler.h"
#include "control/scheduled_action_controller.h"
#include "control/security_group_controller.h"
#include "control/target_controller.h"
#include "events/event_journal.h"
#include "events/event_stream.h"
#include "events/state_events.h"
#include "operations/load_balancer_address.h"
#include "runtime/image_store.h"
#include "runtime/local_provider.h"
#include "server/base_image.h"
#include "server/host_addresses.h"
#include "server/host_view.h"
#include "server/metrics_endpoint.h"
#include "stacks/actions.h"
#include "stacks/engine.h"
#include "store/sqlite_store.h"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <functional>
#include <pthread.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace tide::server {

namespace fs = std::filesystem;

namespace {

// The longest wait between two controller passes; any controller may ask for a sooner one.
constexpr Millis kReconcileInterval(1000);
// Samples are taken this long after each second boundary (scheduleSample).
constexpr TimeMs kSampleAfterBoundaryMs = 20;

// A controller pass with no say about when to look again.
Result<Millis> lookAgainAtTheLatest(const Status& s) {
  if (!s.isOk()) {
    return s;
  }
  return kReconcileInterval;
}

// Holds an exclusive lock on <dataDir>/server.lock for the server's life, with its pid inside.
class DataDirLock {
public:
  ~DataDirLock() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Status acquire(const std::string& dataDir) {
    std::string path = dataDir + "/server.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      return internalError("cannot open " + path + ": " + std::strerror(errno));
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      char buf[32] = {};
      ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
      std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "?";
      while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) {
        pid.pop_back();
      }
      return Status("DataDirectoryInUse", "another tide server (pid " + pid + ") uses " + dataDir +
                                              "; stop it or choose --data-dir");
    }
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) != 0 ||
        ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
      return internalError("cannot write " + path);
    }
    return Status::ok();
  }

private:
  int fd_ = -1;
};

class Server {
public:
  explicit Server(const ServerOptions& o) : options_(o) {}

  int run() {
    // Before any thread starts (the balancer's workers, its access-log writers): threads
    // inherit the signal mask, and a thread with SIGTERM unblocked would take the default action
    // (exit 143) instead of letting the signalfd deliver it to the loop's shutdown.
    Status blocked = blockWatchedSignals();
    if (!blocked.isOk()) {
      return fail(blocked.message());
    }
    std::error_code ec;
    fs::create_directories(options_.dataDir, ec);
    if (ec) {
      return fail("cannot create the data directory " + options_.dataDir + ": " + ec.message());
    }
    options_.dataDir = fs::canonical(options_.dataDir).string();
    Status locked = lock_.acquire(options_.dataDir);
    if (!locked.isOk()) {
      return fail(locked.message());
    }
    auth_.mode = options_.authNone ? api::AuthMode::None : api::AuthMode::SigV4;
    if (!options_.authNone) {
      Result<api::Credentials> key = api::loadOrCreateCredentials(options_.dataDir);
      if (!key) {
        return fail(key.status().message());
      }
      auth_.credentials = std::move(*key);
    }
    auto store = store::openSqliteStore(options_.dataDir + "/state.db");
    if (!store) {
      return fail(store.status().message());
    }
    store_ = std::move(*store);
    Status claimed = claimAddresses();
    if (!claimed.isOk()) {
      return fail("cannot claim instance addresses: " + claimed.toString());
    }
    claimed = claimLoadBalancerAddresses();
    if (!claimed.isOk()) {
      return fail("cannot claim load balancer addresses: " + claimed.toString());
    }

    images_ = std::make_unique<runtime::ImageStore>(options_.dataDir + "/images");
    images_->removeIncompleteImports();
    // The built-in base image, run with this very binary (`tide serve-static`).
    fs::path self = fs::read_symlink("/proc/self/exe", ec);
    Status base = ec ? internalError("cannot find tide's own binary: " + ec.message())
                     : ensureBaseImage(*store_, *images_, options_.dataDir, self.string());
    if (!base.isOk()) {
      logWarn("the built-in base image is not registered: " + base.toString());
    }
    runtime::LocalProviderOptions po;
    po.root = options_.dataDir + "/instances";
    po.cgroupMode = options_.cgroupMode;
    po.diskMode = options_.diskMode;
    po.dataDir = options_.dataDir;
    fs::create_directories(po.root, ec);
    provider_ = std::make_unique<runtime::LocalProvider>(po);

    control::InstanceControllerOptions io;
    io.terminationGrace = options_.terminationGrace;
    io.terminatedRetention = options_.terminatedRetention;
    // First launches' disks are made on the instance controller's workers; one that is ready
    // wakes the controller here.
    io.preparation.ended = [this] {
      loop_.post([this] {
        scheduler_->wake("instance controller");
        scheduleReconcile(Millis(0));
      });
    };
    if (const char* hold = std::getenv("TIDE_TEST_HOLD_LAUNCHES"); hold != nullptr) {
      io.preparation.holdWhileExists = hold; // tests: disks wait while this file exists
    }
    instances_ =
        std::make_unique<control::InstanceController>(*store_, *provider_, *images_, clock_, io);
    // Imports run on the image controller's worker; one that ends wakes the controller here.
    control::ImageControllerOptions imo;
    imo.importEnded = [this] {
      loop_.post([this] {
        scheduler_->wake("image controller");
        scheduleReconcile(Millis(0));
      });
    };
    if (const char* hold = std::getenv("TIDE_TEST_HOLD_IMPORTS"); hold != nullptr) {
      imo.holdWhileExists = hold; // tests: imports wait while this file exists
    }
    imageController_ =
        std::make_unique<control::ImageController>(*store_, *images_, *provider_, std::move(imo));
    instances_->removeLeftovers();

    targets_ = std::make_unique<control::TargetController>(*store_, clock_);
    health_ = std::make_unique<control::HealthChecker>(loop_, *store_, clock_);
    securityGroups_ = makeSecurityGroupController();
    balancer::BalancerOptions bo;
    bo.threads = options_.balancerThreads;
    balancer_ = std::make_unique<balancer::Balancer>(bo);
    publisher_ = std::make_unique<control::Publisher>(
        *store_, [this](std::shared_ptr<const balancer::Snapshot> snapshot) {
          Status applied = balancer_->apply(snapshot);
          if (!applied.isOk()) {
            logError("balancer refused snapshot " + std::to_string(snapshot->version) + ": " +
                     applied.toString());
          }
        });
    publisher_->setAccessLogDirectory(options_.dataDir + "/access-logs");
    Status published = publisher_->publish();
    if (!published.isOk()) {
      return fail("cannot build the load balancers' configuration: " + published.message());
    }
    Status started = balancer_->start();
    if (!started.isOk()) {
      return fail("cannot start the load balancers: " + started.message());
    }

    host_ = std::make_unique<LocalHostView>(*provider_, *instances_, options_.dataDir);
    host_->setSecurityGroupEnforcement([this] { return securityGroups_->enforcement(); });
    api::ApiLimits limits;
    limits.maxCpuCores = options_.maxCpuCores > 0
                             ? options_.maxCpuCores
                             : 4.0 * std::max(1u, std::thread::hardware_concurrency());
    ctx_ =
        std::make_unique<api::ActionContext>(api::ActionContext{*store_, clock_, *host_, limits});
    metrics::MetricStoreOptions metricOptions;
    metricOptions.retentionSeconds = options_.metricRetentionSeconds;
    metricStore_ = std::make_unique<metrics::MetricStore>(clock_, metricOptions);
    ctx_->metrics = metricStore_.get();
    ctx_->actions = &actions_;
    ctx_->addresses = addresses_.get();
    ctx_->loadBalancerAddresses = lbAddresses_.get();
    ctx_->idempotency = &idempotency_;
    ctx_->auth = &auth_;
    ctx_->defaultRegion = options_.region;
    ctx_->dataDir = options_.dataDir;
    ctx_->region = options_.region;
    ctx_->accountId = options_.accountId;
    metricsPublisher_ = std::make_unique<control::MetricsPublisher>(
        *store_, *metricStore_, clock_, *publisher_, [this] { return balancer_->counters(); });
    alarms_ = std::make_unique<control::AlarmController>(*store_, *metricStore_, clock_);
    control::AutoScalingControllerOptions ao;
    ao.maxCpuCores = limits.maxCpuCores; // the same limit as RunInstances
    ao.addresses = addresses_.get();
    ao.canFreeze = provider_->info().freezer; // Hibernated warm pools (control/warm_pool.h)
    ao.appReady = control::appAcceptsConnections;
    autoScaling_ = std::make_unique<control::AutoScalingController>(*store_, clock_, ao);
    scheduledActions_ = std::make_unique<control::ScheduledActionController>(*store_, clock_);
    predictive_ =
        std::make_unique<control::PredictiveScalingController>(*store_, *metricStore_, clock_);

    // The reconcilers, each with the rows whose changes wake it (docs/controllers.md). When
    // several are due they run in this order: the publisher after the targets and stacks whose
    // changes it publishes, the health checker after the publisher.
    using control::Wake;
    using store::Kind;
    scheduler_ = std::make_unique<control::ReconcileScheduler>(
        clock_,
        std::vector<control::ScheduledController>{
            {"image controller",
             {{}, {Kind::Image}},
             [this](const Wake&) { return lookAgainAtTheLatest(imageController_->reconcile()); }},
            {"security groups", // before the instance controller starts what they filter
             {{}, {Kind::Instance, Kind::LoadBalancer, Kind::SecurityGroup}},
             [this](const Wake&) { return securityGroups_->reconcile(); }},
            {"instance controller",
             {{Kind::Instance}, {}},
             [this](const Wake& w) { return instances_->reconcile(w); }},
            {"scheduled actions", // before the groups, which carry out what it sets
             {{}, {Kind::AutoScalingGroup}},
             [this](const Wake&) { return scheduledActions_->reconcile(); }},
            {"predictive scaling", // also before the groups
             {{}, {Kind::ScalingPolicy}},
             [this](const Wake&) { return predictive_->reconcile(); }},
            {"auto scaling",
             {{Kind::AutoScalingGroup, Kind::Instance, Kind::Target}, {}},
             [this](const Wake& w) { return autoScaling_->reconcile(w); }},
            {"target controller",
             {{Kind::TargetGroup, Kind::Target, Kind::Instance},
              {Kind::Listener, Kind::LoadBalancer}},
             [this](const Wake& w) { return targets_->reconcile(w); }},
            {"stacks",
             {{}, {Kind::Stack, Kind::Image, Kind::AutoScalingGroup}},
             [this](const Wake&) -> Result<Millis> {
               // true: a stack waits on something
               TIDE_ASSIGN_OR_RETURN(bool waiting, stacks_.step(*ctx_));
               return waiting ? Millis(100) : kReconcileInterval;
             }},
            {"publisher",
             {{},
              {Kind::LoadBalancer, Kind::Listener, Kind::TargetGroup, Kind::Target, Kind::Instance,
               Kind::Certificate}},
             [this](const Wake&) { return lookAgainAtTheLatest(publisher_->publish()); }},
            {"health checker",
             {{}, {Kind::TargetGroup, Kind::Target, Kind::Listener, Kind::Instance}},
             [this](const Wake&) { return health_->reconcile(); }},
        },
        control::ReconcileSchedulerOptions{kReconcileInterval, Millis(1000)});

    Status eventsStarted = startEvents();
    if (!eventsStarted.isOk()) {
      return fail("cannot start the event log: " + eventsStarted.message());
    }
    console_ = std::make_unique<console::Console>(
        *ctx_, *publisher_, [this] { return balancer_->counters(); },
        console::ConsoleOptions{"/proc/self/exe", options_.dataDir, "/events"});
    http_ = std::make_unique<api::HttpServer>(
        loop_, api::HttpServerOptions{}, [this](const api::HttpRequest& r) {
          if (isMetricsRequest(r)) { // Prometheus (metrics_endpoint.h)
            return serveMetrics(
                {&auth_, metricStore_.get(), metricsPublisher_.get(), store_.get(), &clock_}, r);
          }
          if (events::EventStream::handles(r.target)) {
            return eventStream_->handle(r); // docs/events.md
          }
          if (console::Console::handles(r.target)) {
            return console_->handle(r); // docs/console.md
          }
          return api::handleApiRequest(*ctx_, r);
        });
    auto port = http_->listen(options_.apiHost, options_.apiPort);
    if (!port) {
      return fail("cannot listen on " + options_.apiHost + ":" + std::to_string(options_.apiPort) +
                  ": " + port.status().message());
    }
    {
      // Instances reach the API on its address; one listening on every address is reached on
      // the loopback (instances are local processes).
      std::string host =
          options_.apiHost == "0.0.0.0" || options_.apiHost == "::" || options_.apiHost.empty()
              ? "127.0.0.1"
              : options_.apiHost;
      if (host.find(':') != std::string::npos && host.front() != '[') {
        host = "[" + host + "]";
      }
      instances_->setApiEndpoint("http://" + host + ":" + std::to_string(*port), options_.region);
    }
    Status sig = watchSignals();
    if (!sig.isOk()) {
      return fail(sig.message());
    }
    store_->onChange([this](const store::ChangeSet& changes) {
      Status observed = stateEvents_->observe(changes);
      if (!observed.isOk()) {
        logError("events: " + observed.toString());
      }
      scheduler_->onChange(changes);
      scheduleReconcile(std::chrono::milliseconds(0));
    });

    runtime::ProviderInfo info = provider_->info();
    std::printf("tide server listening on http://%s:%u\n", options_.apiHost.c_str(), *port);
    std::printf("  auth: %s\n", options_.authNone ? "none (any request is accepted; loopback only)"
                                                  : ("SigV4 with the key in " +
                                                     api::credentialsPath(options_.dataDir) +
                                                     " (tide credentials prints it)")
                                                        .c_str());
    std::printf("  data: %s\n  cgroups: %s (%s)\n  disks: %s%s%s\n  capacity: %.3g vCPUs for "
                "instances (on %u host cores; --max-cpu-cores)\n  warm pools: %s\n",
                options_.dataDir.c_str(), info.cgroups.c_str(), info.cgroupNote.c_str(),
                info.diskCopy.c_str(), info.diskNote.empty() ? "" : " - ", info.diskNote.c_str(),
                limits.maxCpuCores, std::max(1u, std::thread::hardware_concurrency()),
                info.freezer ? "Hibernated freezes instances with the cgroup freezer"
                             : "no cgroup freezer: Hibernated warm instances stay Running");
    std::fflush(stdout);

    scheduleReconcile(std::chrono::milliseconds(0));
    scheduleSample();
    scheduleConsoleTrim();
    loop_.run();

    imageController_->stop();       // an import in flight ends (or is abandoned: it stays pending)
    instances_->stopPreparations(); // a disk being made is abandoned: its instance stays pending
    http_->close();
    console_->stopLoad();
    balancer_->stop();
    securityGroups_->removeTable(); // nothing stays filtered without the server
    loop_.remove(signalFd_);
    ::close(signalFd_);
    logInfo("tide server stopped; instances keep running and are found again at the next start");
    return 0;
  }

private:
  int fail(const std::string& message) {
    std::fprintf(stderr, "tide server: %s\n", message.c_str());
    return 1;
  }

  // Security groups enforced with nftables when the host allows it (root and nft), in a table
  // of this data directory's own (control/security_group_controller.h).
  std::unique_ptr<control::SecurityGroupController> makeSecurityGroupController() {
    control::SecurityGroupControllerOptions so;
    std::error_code ec;
    so.table = control::firewallTableName(fs::absolute(options_.dataDir, ec).string());
    std::string nft = control::findNft();
    if (::geteuid() != 0) {
      so.unavailable = "not root";
    } else if (nft.empty()) {
      so.unavailable = "no nft binary: install nftables (scripts/deps.sh)";
    }
    so.nft = [nft](const std::string& input) { return control::runNft(nft, input); };
    return std::make_unique<control::SecurityGroupController>(*store_, std::move(so));
  }

  // The event bus (docs/events.md): the journal (ring and <data>/events log), the events made
  // from the store's changes, and the stream at GET /events.
  Status startEvents() {
    events::EventJournalOptions eo;
    eo.directory = options_.dataDir + "/events";
    events_ = std::make_unique<events::EventJournal>(eo);
    TIDE_RETURN_IF_ERROR(events_->open());
    stateEvents_ = std::make_unique<events::StateEvents>(
        *store_, clock_, events::EventOrigin{options_.accountId, options_.region},
        [this](const events::EventJson& e) { events_->append(e); });
    TIDE_RETURN_IF_ERROR(stateEvents_->prime());
    eventStream_ = std::make_unique<events::EventStream>(loop_, *events_, &auth_);
    return Status::ok();
  }

  // Claims this data directory's address blocks in the host-wide registry: the ones it had,
  // and those of the addresses its instances hold (instances keep their addresses).
  Status claimAddresses() {
    runtime::AddressRegistryOptions ro;
    ro.path = options_.addressRegistry.empty() ? runtime::defaultAddressRegistryPath()
                                               : options_.addressRegistry;
    addresses_ = std::make_unique<HostAddresses>(ro, options_.dataDir);
    std::vector<int> wanted;
    TIDE_RETURN_IF_ERROR(store_->transact(
        [&](store::Tx& tx) -> Status {
          TIDE_ASSIGN_OR_RETURN(auto all, tx.instances());
          for (const model::Instance& i : all) {
            int block = operations::blockOf(i.privateIpAddress);
            if (i.state != model::InstanceState::Terminated && block >= 0) {
              wanted.push_back(block);
            }
          }
          return Status::ok();
        },
        false));
    TIDE_RETURN_IF_ERROR(addresses_->claim(wanted));
    logInfo("instance addresses: " + describeBlocks(addresses_->blocks()) + " (claimed in " +
            addresses_->registryPath() + ")");
    return Status::ok();
  }

  // The same for load balancers' own addresses (127.2.0.0/16, a registry file beside the
  // instances'): load balancers keep theirs, and those stored before load balancers had
  // addresses are given one now.
  Status claimLoadBalancerAddresses() {
    runtime::AddressRegistryOptions ro;
    ro.path = runtime::loadBalancerRegistryPath(addresses_->registryPath());
    lbAddresses_ =
        std::make_unique<HostAddresses>(ro, options_.dataDir, operations::kLoadBalancerAddresses);
    std::vector<int> wanted;
    TIDE_RETURN_IF_ERROR(store_->transact(
        [&](store::Tx& tx) -> Status {
          TIDE_ASSIGN_OR_RETURN(auto all, tx.loadBalancers());
          for (const model::LoadBalancer& lb : all) {
            int block = operations::blockOf(lb.ipAddress, operations::kLoadBalancerAddresses);
            if (block >= 0) {
              wanted.push_back(block);
            }
          }
          return Status::ok();
        },
        false));
    TIDE_RETURN_IF_ERROR(lbAddresses_->claim(wanted));
    int given = 0;
    TIDE_RETURN_IF_ERROR(store_->transact([&](store::Tx& tx) -> Status {
      TIDE_ASSIGN_OR_RETURN(given,
                            operations::giveMissingLoadBalancerAddresses(tx, lbAddresses_.get()));
      return Status::ok();
    }));
    logInfo("load balancer addresses: " +
            describeBlocks(lbAddresses_->blocks(), operations::kLoadBalancerAddresses) +
            " (claimed in " + lbAddresses_->registryPath() + ")" +
            (given > 0 ? "; gave " + std::to_string(given) + " load balancers their own" : ""));
    return Status::ok();
  }

  // The signals the control loop handles: stop on SIGTERM and SIGINT, look at the instances on
  // SIGCHLD.
  static sigset_t watchedSignals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    return set;
  }

  // Blocks the watched signals in the calling thread (and so in every thread it starts later),
  // so that they reach only the signalfd that watchSignals() opens. REQUIRES: no other thread
  // runs yet.
  static Status blockWatchedSignals() {
    sigset_t set = watchedSignals();
    if (::pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) {
      return internalError("pthread_sigmask failed");
    }
    std::signal(SIGPIPE, SIG_IGN);
    return Status::ok();
  }

  Status watchSignals() {
    sigset_t set = watchedSignals();
    signalFd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signalFd_ < 0) {
      return internalError(std::string("signalfd failed: ") + std::strerror(errno));
    }
    return loop_.add(signalFd_, 0x001 /* EPOLLIN */, [this](uint32_t) {
      signalfd_siginfo si;
      while (::read(signalFd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        if (si.ssi_signo == SIGCHLD) {
          // An instance's process ended: the instance controller looks (its writes wake the
          // others that care).
          scheduler_->wake("instance controller");
          scheduleReconcile(std::chrono::milliseconds(0));
        } else {
          logInfo(std::string("stopping on ") + strsignal(static_cast<int>(si.ssi_signo)));
          loop_.stop();
        }
      }
    });
  }

  // Runs the due controllers after `delay`, unless that is already planned sooner.
  void scheduleReconcile(Millis delay) {
    TimeMs due = clock_.now() + delay.count();
    if (reconcileTimer_ != 0 && reconcileDue_ <= due) {
      return;
    }
    if (reconcileTimer_ != 0) {
      loop_.cancel(reconcileTimer_);
    }
    reconcileDue_ = due;
    reconcileTimer_ = loop_.runAfter(delay, [this] {
      reconcileTimer_ = 0;
      reconcile();
    });
  }

  // Runs the controllers that are due (woken by a change, a signal or their timer), in the
  // table's order; the next run comes when the next one is due.
  void reconcile() {
    TimeMs next = scheduler_->runDue();
    scheduleReconcile(Millis(std::max<TimeMs>(next - clock_.now(), 0)));
  }

  // Every 100 ms: the instances' console logs back within their bound (runtime/console_log.h),
  // so that an instance writing without end costs the host at most what it writes in that
  // time beyond the bound. A directory listing and a stat per instance.
  void scheduleConsoleTrim() {
    loop_.runAfter(Millis(100), [this] {
      for (const std::string& id : provider_->knownInstances()) {
        if (Status s = provider_->trimConsole(id); !s.isOk()) {
          logDebug("instance " + id + ": " + s.toString()); // tried again at the next tick
        }
      }
      scheduleConsoleTrim();
    });
  }

  void scheduleSample() {
    // Just after each second boundary: the samples then cover the second that just ended
    // (control/metrics_publisher.h) and the alarms evaluate it at once.
    TimeMs now = clock_.now();
    loop_.runAfter(Millis(1000 - now % 1000 + kSampleAfterBoundaryMs), [this] {
      // Once a second: read the instances' CPU, publish the second's metrics, evaluate alarms.
      // The readings go from the instance controller to the metric store in memory; the store
      // is not written.
      Result<std::vector<control::InstanceReading>> readings = instances_->sample();
      if (!readings) {
        logError("sampling: " + readings.status().toString());
      }
      Status s =
          metricsPublisher_->sample(readings ? *readings : std::vector<control::InstanceReading>{});
      if (!s.isOk()) {
        logError("metrics: " + s.toString());
      }
      Result<Millis> evaluated = alarms_->reconcile();
      if (!evaluated) {
        logError("alarms: " + evaluated.status().toString());
      }
      if (++samples_ % 60 == 0) {
        metricStore_->dropExpired();
      }
      scheduleSample();
    });
  }

  ServerOptions options_;
  RealClock clock_;
  DataDirLock lock_;
  EventLoop loop_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<HostAddresses> addresses_;
  std::unique_ptr<HostAddresses> lbAddresses_; // load balancers' own addresses (127.2.0.0/16)
  std::unique_ptr<runtime::ImageStore> images_;
  std::unique_ptr<runtime::LocalProvider> provider_;
  std::unique_ptr<control::InstanceController> instances_;
  std::unique_ptr<control::ImageController> imageController_;
  std::unique_ptr<control::TargetController> targets_;
  std::unique_ptr<control::AutoScalingController> autoScaling_;
  std::unique_ptr<control::HealthChecker> health_;
  std::unique_ptr<control::SecurityGroupController> securityGroups_; // the nftables table
  std::unique_ptr<balancer::Balancer> balancer_;
  std::unique_ptr<control::Publisher> publisher_;
  std::unique_ptr<LocalHostView> host_;
  std::unique_ptr<metrics::MetricStore> metricStore_;
  std::unique_ptr<control::MetricsPublisher> metricsPublisher_;
  std::unique_ptr<control::AlarmController> alarms_;
  std::unique_ptr<control::ScheduledActionController> scheduledActions_;
  std::unique_ptr<control::PredictiveScalingController> predictive_;
  uint64_t samples_ = 0;
  api::ActionTable actions_{stacks::stackActions()}; // api's own actions and the stacks'
  std::unique_ptr<api::ActionContext> ctx_;
  api::IdempotencyCache idempotency_; // ClientToken results, for a day
  api::AuthConfig auth_;              // who may call (--auth)
  stacks::StackEngine stacks_;
  std::unique_ptr<control::ReconcileScheduler> scheduler_; // the controllers, run by reconcile()
  std::unique_ptr<events::EventJournal> events_;           // the event bus's ring and log
  std::unique_ptr<events::StateEvents> stateEvents_;       // events from the store's changes
  std::unique_ptr<events::EventStream> eventStream_;       // GET /events (declared before
                                                           // http_, which closes its streams
                                                           // and so must go first)
  std::unique_ptr<console::Console> console_;              // /console/ (docs/console.md)
  std::unique_ptr<api::HttpServer> http_;
  int signalFd_ = -1;
  EventLoop::TimerId reconcileTimer_ = 0;
  TimeMs reconcileDue_ = 0;
};

// "HOST:PORT" → host and port.
bool parseHostPort(const std::string& s, std::string& host, uint16_t& port) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return false;
  }
  host = s.substr(0, colon);
  std::string p = s.substr(colon + 1);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  unsigned long v = std::stoul(p);
  if (v > 65535) {
    return false;
  }
  port = static_cast<uint16_t>(v);
  return true;
}

// 127.0.0.0/8, ::1 or localhost: reachable from this machine only.
bool isLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

} // namespace

int runServer(const ServerOptions& options) {
  return Server(options).run();
}

int serverMain(int argc, char** argv) {
  CLI::App app{"tide server: the control plane (API, controllers, instances)", "tide server"};
  ServerOptions o;
  o.dataDir = defaultDataDir();
  std::string api = "127.0.0.1:4566";
  double graceSeconds = 10;
  double retentionSeconds = 3600;
  app.add_option("--data-dir", o.dataDir, "where state, images and instances live")
      ->capture_default_str();
  app.add_option("--api", api, "HOST:PORT the API listens on (port 0 picks one)")
      ->capture_default_str();
  app.add_option("--max-cpu-cores", o.maxCpuCores,
                 "CPU cores instances may reserve in all (default: 4 x this machine's cores)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--termination-grace", graceSeconds,
                 "seconds between SIGTERM and SIGKILL when stopping or terminating instances")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  app.add_option("--terminated-retention", retentionSeconds,
                 "seconds terminated instances stay listed")
      ->check(CLI::Range(0.0, 86400.0 * 7))
      ->capture_default_str();
  app.add_option("--metric-retention", o.metricRetentionSeconds,
                 "seconds metric data is kept, at one-second resolution (memory grows with it)")
      ->check(CLI::Range(600, 86400 * 15))
      ->capture_default_str();
  app.add_option("--balancer-threads", o.balancerThreads,
                 "load balancer worker threads (default: one per core)")
      ->check(CLI::Range(0, 64));
  app.add_option("--cgroups", o.cgroupMode, "auto, v1, v2 or none")
      ->check(CLI::IsMember({"auto", "v1", "v2", "none"}))
      ->capture_default_str();
  app.add_option("--address-registry", o.addressRegistry,
                 "the host-wide file where servers claim instance address blocks (default: "
                 "/run/tide/address-ranges when writable, else under $XDG_RUNTIME_DIR or /tmp)");
  std::string auth = "sigv4";
  app.add_option("--auth", auth,
                 "sigv4: requests must be signed with the key in <data dir>/credentials (tide "
                 "credentials prints it); none: any request is accepted (loopback only)")
      ->check(CLI::IsMember({"sigv4", "none"}))
      ->capture_default_str();
  app.add_option("--region", o.region,
                 "the region of unsigned requests (signed ones name their own)")
      ->capture_default_str();
  app.add_option("--account-id", o.accountId, "the 12-digit account in ARNs")
      ->capture_default_str();
  app.add_option("--disks", o.diskMode, "instance disks: auto, overlay or copy")
      ->check(CLI::IsMember({"auto", "overlay", "copy"}))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      return app.exit(e); // --help
    }
    std::fprintf(stderr, "tide server: UsageError: %s (see tide server --help)\n", e.what());
    return 2;
  }
  if (!parseHostPort(api, o.apiHost, o.apiPort)) {
    std::fprintf(stderr, "tide server: --api must be HOST:PORT, got '%s'\n", api.c_str());
    return 2;
  }
  o.authNone = auth == "none";
  if (o.authNone && !isLoopbackHost(o.apiHost)) {
    std::fprintf(stderr,
                 "tide server: --auth none accepts anyone's requests, so the API must listen on "
                 "loopback (127.0.0.1, ::1 or localhost), not on '%s'\n",
                 o.apiHost.c_str());
    return 2;
  }
  if (o.accountId.size() != 12 ||
      o.accountId.find_first_not_of("0123456789") != std::string::npos) {
    std::fprintf(stderr, "tide server: --account-id must be 12 digits, got '%s'\n",
                 o.accountId.c_str());
    return 2;
  }
  if (o.region.empty() || o.region.size() > 32 ||
      o.region.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
    std::fprintf(stderr,
                 "tide server: --region must be a region name such as us-east-1, got '%s'\n",
                 o.region.c_str());
    return 2;
  }
  o.terminationGrace = Millis(static_cast<int64_t>(graceSeconds * 1000));
  o.terminatedRetention = Millis(static_cast<int64_t>(retentionSeconds * 1000));
  return runServer(o);
}

} // namespace tide::server
