#include "control/disk_preparer.h"

#include "common/log.h"

#include <chrono>
#include <sys/stat.h>

namespace tide::control {

DiskPreparer::DiskPreparer(runtime::InstanceProvider& provider, DiskPreparerOptions options)
    : provider_(provider), options_(std::move(options)) {
  if (options_.workers < 1) {
    options_.workers = 1;
  }
}

DiskPreparer::~DiskPreparer() {
  stop();
}

bool DiskPreparer::held() const {
  struct stat st;
  return !options_.holdWhileExists.empty() && ::stat(options_.holdWhileExists.c_str(), &st) == 0;
}

void DiskPreparer::submit(const runtime::LaunchSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_ || jobs_.count(spec.instanceId)) {
    return;
  }
  Job& job = jobs_[spec.instanceId];
  job.spec = spec;
  queue_.push_back(spec.instanceId);
  if (idle_ == 0 && int(workers_.size()) < options_.workers) {
    workers_.emplace_back([this] { workerLoop(); });
  }
  cv_.notify_all();
}

bool DiskPreparer::inFlight(const std::string& instanceId) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(instanceId);
  return it != jobs_.end() && !it->second.result.has_value();
}

std::optional<Status> DiskPreparer::take(const std::string& instanceId) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(instanceId);
  if (it == jobs_.end() || !it->second.result.has_value()) {
    return std::nullopt;
  }
  Status result = std::move(*it->second.result);
  jobs_.erase(it);
  return result;
}

void DiskPreparer::cancel(const std::string& instanceId) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(instanceId);
  if (it == jobs_.end() || it->second.result.has_value()) {
    return;
  }
  it->second.cancel->store(true);
  if (!it->second.running) {
    std::erase(queue_, instanceId);
    it->second.result = Status("Cancelled", "the disk of " + instanceId + " was not prepared");
  }
  cv_.notify_all(); // a held worker looks again
}

std::set<std::string> DiskPreparer::known() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::set<std::string> ids;
  for (const auto& [id, job] : jobs_) {
    ids.insert(id);
  }
  return ids;
}

void DiskPreparer::waitIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] {
    for (const auto& [id, job] : jobs_) {
      if (!job.result.has_value()) {
        return false;
      }
    }
    return true;
  });
}

void DiskPreparer::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& [id, job] : jobs_) {
      job.cancel->store(true);
    }
  }
  cv_.notify_all();
  for (std::thread& t : workers_) {
    if (t.joinable()) {
      t.join();
    }
  }
}

void DiskPreparer::workerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    ++idle_;
    cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    --idle_;
    if (stopping_) {
      return; // what is queued stays pending in the store: the next server prepares it
    }
    const std::string id = queue_.front();
    queue_.pop_front();
    Job& job = jobs_.at(id); // a running job is never erased (take() needs its result)
    job.running = true;
    // Tests hold a preparation here to see the control thread go on meanwhile.
    while (held() && !job.cancel->load() && !stopping_) {
      cv_.wait_for(lock, std::chrono::milliseconds(20));
    }
    runtime::LaunchSpec spec = job.spec;
    const std::atomic<bool>* cancel = job.cancel.get();
    Status result = Status("Cancelled", "the disk of " + id + " was not prepared");
    if (!cancel->load()) {
      lock.unlock();
      result = provider_.prepareDisk(spec, cancel);
      lock.lock();
    }
    if (!result.isOk() && result.code() != "Cancelled") {
      logWarn("instance " + id + ": its disk could not be prepared: " + result.toString());
    }
    Job& ended = jobs_.at(id);
    ended.running = false;
    ended.result = std::move(result);
    cv_.notify_all(); // waitIdle
    if (options_.ended && !stopping_) {
      lock.unlock();
      options_.ended();
      lock.lock();
    }
  }
}

} // namespace tide::control
