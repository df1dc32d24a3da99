#include "balancer/lb_algorithm.h"

namespace tide::balancer {

extern const LbAlgorithm kRoundRobin;       // lb_round_robin.cc
extern const LbAlgorithm kLeastOutstanding; // lb_least_outstanding.cc
extern const LbAlgorithm kWeightedRandom;   // lb_weighted_random.cc

namespace {
const LbAlgorithm* const kAlgorithms[] = {
    &kRoundRobin,
    &kLeastOutstanding,
    &kWeightedRandom,
};
} // namespace

const LbAlgorithm* findLbAlgorithm(std::string_view name) {
  for (const LbAlgorithm* a : kAlgorithms) {
    if (a->name == name) {
      return a;
    }
  }
  return nullptr;
}

} // namespace tide::balancer
