#include "balancer/lb_algorithm.h"

namespace tide::balancer {

extern const LbAlgorithm kRoundRobin;       // lb_round_robin.cc
extern const LbAlgorithm kLeastOutstanding; // lb_least_outstanding.cc

namespace {
const LbAlgorithm* const kAlgorithms[] = {
    &kRoundRobin,
    &kLeastOutstanding,
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
