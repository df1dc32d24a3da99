#include "control/metrics_publisher.h"

#include "balancer/response_time_histogram.h"
#include "common/log.h"
#include "operations/target_tracking.h"

#include <map>

namespace tide::control {

std::string elbDimensionValue(const std::string& arn) {
  if (size_t at = arn.find(":loadbalancer/"); at != std::string::npos) {
    return arn.substr(at + std::string(":loadbalancer/").size());
  }
  if (size_t at = arn.find(":targetgroup/"); at != std::string::npos) {
    return arn.substr(at + 1);
  }
  return arn;
}

namespace {

uint64_t delta(uint64_t now, uint64_t before) {
  return now >= before ? now - before : now;
}

using Histogram = std::vector<uint64_t>; // balancer/response_time_histogram.h buckets

// Adds the change of a target's histogram since the previous sample into `into`.
void addChange(Histogram& into, const Histogram& now, const Histogram* before) {
  into.resize(balancer::kResponseTimeBuckets);
  for (size_t b = 0; b < now.size() && b < into.size(); ++b) {
    into[b] += delta(now[b], before != nullptr && b < before->size() ? (*before)[b] : 0);
  }
}

// The counters of a slot, or zeros.
const balancer::TrafficCounters& at(const std::vector<balancer::TrafficCounters>& v, uint32_t s) {
  static const balancer::TrafficCounters kZero;
  return s < v.size() ? v[s] : kZero;
}

} // namespace

Status MetricsPublisher::sample(const std::vector<InstanceReading>& instances) {
  TimeMs now = clock_.now();
  // A sample covers the second before it; it is stamped at that second's middle, so a sample
  // taken just after a second boundary lands in the second it measured, and the alarms can
  // evaluate that second at once.
  const TimeMs stamp = now - kSampleStampOffset.count();
  auto put = [&](const char* ns, const char* name, std::vector<metrics::Dimension> dims,
                 double value) {
    Status s = metrics_.put({ns, name, std::move(dims)}, stamp, value);
    if (!s.isOk()) {
      logDebug(std::string("metric ") + name + ": " + s.toString());
    }
  };

  std::vector<model::Target> targets;
  std::vector<model::Listener> listeners;
  std::map<std::string, int> warmupOfGroup; // seconds, by group name
  TIDE_RETURN_IF_ERROR(store_.transact(
      [&](store::Tx& tx) -> Status {
        auto t = tx.targets("");
        auto l = tx.listeners();
        auto g = tx.autoScalingGroups();
        auto p = tx.scalingPolicies("");
        TIDE_RETURN_IF_ERROR(firstError({&t.status(), &l.status(), &g.status(), &p.status()}));
        targets = std::move(*t);
        listeners = std::move(*l);
        for (const model::AutoScalingGroup& group : *g) {
          warmupOfGroup[group.autoScalingGroupName] = operations::instanceWarmupSeconds(group, *p);
        }
        return Status::ok();
      },
      false));

  for (const InstanceReading& i : instances) {
    double cpu = i.usage.cpuUtilization;
    if (cpu < 0) {
      continue; // one sample is not a rate yet
    }
    put("AWS/EC2", "CPUUtilization", {{"InstanceId", i.instanceId}}, cpu);
    put("AWS/EC2", "CPUUtilization", {{"InstanceType", i.instanceType}}, cpu);
    put("AWS/EC2", "CPUUtilization", {{"ImageId", i.imageId}}, cpu);
    // A warming instance is left out of its group's aggregate (Auto Scaling's warm-up).
    if (!i.autoScalingGroupName.empty() &&
        !operations::isWarmingUp(i.launchTime, warmupOfGroup[i.autoScalingGroupName], now)) {
      put("AWS/EC2", "CPUUtilization", {{"AutoScalingGroupName", i.autoScalingGroupName}}, cpu);
    }
  }

  // Target group → its load balancer (one, as ELBv2 allows).
  std::map<std::string, std::string> lbOfGroup;
  for (const auto& l : listeners) {
    for (const std::string& arn : model::targetGroupsOf(l)) {
      lbOfGroup[arn] = l.loadBalancerArn;
    }
  }
  // Health counts per target group.
  std::map<std::string, std::pair<int, int>> health; // healthy, unhealthy
  for (const auto& t : targets) {
    if (t.state == model::TargetHealthState::Healthy) {
      health[t.targetGroupArn].first++;
    } else if (t.state == model::TargetHealthState::Unhealthy ||
               t.state == model::TargetHealthState::Initial) {
      health[t.targetGroupArn].second++;
    }
  }

  balancer::CountersSnapshot counters = counters_();
  if (!havePrevious_) {
    previous_ = counters;
    havePrevious_ = true;
  }
  const Publisher::Slots& slots = publisher_.slots();
  // Response times of the second: each target's histogram change, summed per target group,
  // and per load balancer over its target groups.
  std::map<std::string, Histogram> timesOfGroup; // target group ARN → counts
  for (const auto& [key, slot] : slots.targets) {
    size_t bar = key.find('|');
    if (bar == std::string::npos || slot >= counters.targetResponseTimes.size() ||
        counters.targetResponseTimes[slot].empty()) {
      continue;
    }
    const Histogram* before = slot < previous_.targetResponseTimes.size()
                                  ? &previous_.targetResponseTimes[slot]
                                  : nullptr;
    addChange(timesOfGroup[key.substr(0, bar)], counters.targetResponseTimes[slot], before);
  }
  std::map<std::string, Histogram> timesOfLoadBalancer; // load balancer ARN → counts
  for (const auto& [group, h] : timesOfGroup) {
    if (auto lb = lbOfGroup.find(group); lb != lbOfGroup.end()) {
      addChange(timesOfLoadBalancer[lb->second], h, nullptr);
    }
  }
  // A histogram as Values (bucket middles, seconds) and Counts, with the exact sum.
  auto putTimes = [&](const std::vector<metrics::Dimension>& dims, const Histogram& h,
                      double sumSeconds) {
    std::vector<double> values;
    std::vector<double> counts;
    for (size_t b = 0; b < h.size(); ++b) {
      if (h[b] != 0) {
        values.push_back(balancer::responseTimeBucketSeconds(int(b)));
        counts.push_back(double(h[b]));
      }
    }
    if (values.empty()) {
      return false;
    }
    Status s = metrics_.putValues({"AWS/ApplicationELB", "TargetResponseTime", dims}, stamp, values,
                                  counts, sumSeconds);
    if (!s.isOk()) {
      logDebug("metric TargetResponseTime: " + s.toString());
    }
    return true;
  };
  // Every counter of balancer/counters.h published `where` says, as `how` says.
  auto traffic = [&](const std::vector<metrics::Dimension>& dims,
                     const balancer::TrafficCounters& c, const balancer::TrafficCounters& p,
                     bool loadBalancer, const Histogram* times) {
    const char* ns = "AWS/ApplicationELB";
    double meanSum = 0;
    for (const balancer::CounterInfo& k : balancer::kCounters) {
      if (k.where == balancer::PublishScope::None ||
          (k.where == balancer::PublishScope::LoadBalancer && !loadBalancer)) {
        continue;
      }
      uint64_t changed = delta(c.*k.field, p.*k.field);
      switch (k.how) {
      case balancer::Publish::Delta:
        put(ns, k.name, dims, double(changed) * k.scale);
        break;
      case balancer::Publish::Gauge:
        put(ns, k.name, dims, double(c.*k.field) * k.scale);
        break;
      case balancer::Publish::MeanSum:
        meanSum = double(changed) * k.scale;
        break;
      case balancer::Publish::MeanCount:
        // No sample when nothing was timed; the distribution when the balancer kept one.
        if (changed > 0 && (times == nullptr || !putTimes(dims, *times, meanSum))) {
          put(ns, k.name, dims, meanSum / double(changed));
        }
        break;
      case balancer::Publish::Own:
        break;
      }
    }
  };
  for (const auto& [arn, slot] : slots.loadBalancers) {
    auto times = timesOfLoadBalancer.find(arn);
    traffic({{"LoadBalancer", elbDimensionValue(arn)}}, at(counters.loadBalancers, slot),
            at(previous_.loadBalancers, slot), true,
            times == timesOfLoadBalancer.end() ? nullptr : &times->second);
  }
  // Requests outstanding now (sent to a target, response not finished), per target group,
  // summed over its targets.
  std::map<std::string, uint64_t> outstandingOf; // target group ARN → requests
  for (const auto& [key, slot] : slots.targets) {
    size_t bar = key.find('|');
    if (bar != std::string::npos) {
      outstandingOf[key.substr(0, bar)] += at(counters.targets, slot).outstandingRequests;
    }
  }
  for (const auto& [arn, slot] : slots.targetGroups) {
    std::vector<metrics::Dimension> dims = {{"TargetGroup", elbDimensionValue(arn)}};
    if (auto lb = lbOfGroup.find(arn); lb != lbOfGroup.end()) {
      dims.push_back({"LoadBalancer", elbDimensionValue(lb->second)});
    }
    const auto& c = at(counters.targetGroups, slot);
    const auto& p = at(previous_.targetGroups, slot);
    auto times = timesOfGroup.find(arn);
    traffic(dims, c, p, false, times == timesOfGroup.end() ? nullptr : &times->second);
    if (times != timesOfGroup.end()) {
      ResponseTimeTotal& total = responseTimeTotals_[elbDimensionValue(arn)];
      if (auto lb = lbOfGroup.find(arn); lb != lbOfGroup.end()) {
        total.loadBalancer = elbDimensionValue(lb->second);
      }
      addChange(total.counts, times->second, nullptr);
      total.sumSeconds +=
          double(delta(c.targetResponseTimeSumUs, p.targetResponseTimeSumUs)) * 1e-6;
    }
    auto [healthy, unhealthy] = health[arn];
    put("AWS/ApplicationELB", "HealthyHostCount", dims, healthy);
    put("AWS/ApplicationELB", "UnHealthyHostCount", dims, unhealthy);
    double requests = double(delta(c.requestCount, p.requestCount));
    put("AWS/ApplicationELB", "RequestCountPerTarget", {{"TargetGroup", elbDimensionValue(arn)}},
        healthy > 0 ? requests / healthy : requests);
    // tide's own (ALB has no such metric): the load in flight, to scale on concurrency.
    double outstanding = double(outstandingOf[arn]);
    put(kTideElbNamespace, "OutstandingRequestCount", dims, outstanding);
    put(kTideElbNamespace, "OutstandingRequestCountPerTarget",
        {{"TargetGroup", elbDimensionValue(arn)}},
        healthy > 0 ? outstanding / healthy : outstanding);
  }
  // NetworkIn / NetworkOut per instance: cgroups do not count network bytes, so an instance's
  // are what the balancer sent to and received from it, summed over its targets (HTTP bytes,
  // heads included; traffic that bypasses the balancer is not seen).
  std::map<std::string, std::pair<uint64_t, uint64_t>> bytesOf; // instance id → in, out
  for (const auto& [key, slot] : slots.targets) {
    size_t bar = key.find('|');
    size_t bar2 = key.find('|', bar + 1);
    if (bar == std::string::npos || bar2 == std::string::npos) {
      continue;
    }
    const auto& c = at(counters.targets, slot);
    const auto& p = at(previous_.targets, slot);
    auto& b = bytesOf[key.substr(bar + 1, bar2 - bar - 1)];
    b.first += delta(c.targetBytesSent, p.targetBytesSent);
    b.second += delta(c.targetBytesReceived, p.targetBytesReceived);
  }
  for (const InstanceReading& i : instances) {
    if (i.usage.cpuUtilization < 0) {
      continue;
    }
    auto [in, out] = bytesOf[i.instanceId];
    put("AWS/EC2", "NetworkIn", {{"InstanceId", i.instanceId}}, double(in));
    put("AWS/EC2", "NetworkOut", {{"InstanceId", i.instanceId}}, double(out));
    if (!i.autoScalingGroupName.empty() &&
        !operations::isWarmingUp(i.launchTime, warmupOfGroup[i.autoScalingGroupName], now)) {
      put("AWS/EC2", "NetworkIn", {{"AutoScalingGroupName", i.autoScalingGroupName}}, double(in));
      put("AWS/EC2", "NetworkOut", {{"AutoScalingGroupName", i.autoScalingGroupName}}, double(out));
    }
  }
  // A target group no longer published takes its histogram with it.
  std::erase_if(responseTimeTotals_, [&](const auto& entry) {
    for (const auto& [arn, slot] : slots.targetGroups) {
      if (elbDimensionValue(arn) == entry.first) {
        return false;
      }
    }
    return true;
  });
  previous_ = std::move(counters);
  return Status::ok();
}

} // namespace tide::control
