#include "balancer/balancer.h"

namespace tide::balancer {

Balancer::Balancer(BalancerOptions options) : options_(options) {
  threads_ =
      options_.threads != 0 ? options_.threads : std::max(1u, std::thread::hardware_concurrency());
  options_.worker.capacity = options_.capacity;
  options_.worker.cookieKey = randomCookieKey(); // per balancer: cookies do not outlive it
  options_.worker.workerCount = threads_;
  accessLog_ = std::make_unique<AccessLogWriter>();
  options_.worker.accessLog = accessLog_.get();
  baselines_ = std::make_unique<SharedBaseline[]>(options_.capacity.targets);
  options_.worker.baselines = baselines_.get();
}

Balancer::~Balancer() {
  stop();
}

std::shared_ptr<const PreparedSnapshot> Balancer::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

Status Balancer::start() {
  if (started_ || !workers_.empty()) {
    return started_ ? Status::ok() : internalError("a stopped balancer cannot start again");
  }
  for (unsigned i = 0; i < threads_; ++i) {
    auto w = std::make_unique<Worker>(static_cast<int>(i), options_.worker, *this);
    Status st = w->init();
    if (!st.isOk()) {
      workers_.clear();
      return st;
    }
    workers_.push_back(std::move(w));
  }
  accessLog_->start();
  for (auto& w : workers_) {
    Worker* worker = w.get();
    runners_.emplace_back([worker] { worker->run(); });
  }
  started_ = true;
  return Status::ok();
}

Status Balancer::apply(std::shared_ptr<const Snapshot> snapshot) {
  auto previous = current(); // its TLS contexts are taken over where nothing changed
  TIDE_ASSIGN_OR_RETURN(auto prepared,
                        prepareSnapshot(std::move(snapshot), options_.capacity, previous.get()));
  {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = std::move(prepared);
  }
  if (started_) {
    for (auto& w : workers_) {
      w->notify();
    }
  }
  return Status::ok();
}

CountersSnapshot Balancer::counters() const {
  CountersSnapshot out;
  auto cur = current();
  out.loadBalancers.resize(cur ? cur->loadBalancerSlotEnd : 0);
  out.targetGroups.resize(cur ? cur->targetGroupSlotEnd : 0);
  out.targets.resize(cur ? cur->targetSlotEnd : 0);
  out.targetResponseTimes.resize(out.targets.size());
  for (const auto& w : workers_) {
    w->addCounters(out);
  }
  return out;
}

void Balancer::stop() {
  if (!started_) {
    return;
  }
  for (auto& w : workers_) {
    w->requestStop();
  }
  for (auto& t : runners_) {
    t.join();
  }
  runners_.clear();
  accessLog_->stop(); // the workers handed over their last lines when their loops ended
  started_ = false;   // the workers stay, closed, so that counters() still reads their totals
}

} // namespace tide::balancer
