// The keep-alive pool: newest first, per endpoint, bounded per target.
#include "balancer/upstream_pool.h"

#include <gtest/gtest.h>

namespace tide::balancer {
namespace {

constexpr Endpoint kA{0x7f000001, 8080};
constexpr Endpoint kB{0x7f000002, 8080};

UpstreamConn& conn(UpstreamConn& u, uint32_t slot, Endpoint e) {
  u.slot = slot;
  u.endpoint = e;
  return u;
}

TEST(UpstreamPool, TakesTheNewestConnectionFirstAndMarksItReused) {
  UpstreamPool pool(4, 8);
  UpstreamConn older, newer;
  ASSERT_TRUE(pool.put(&conn(older, 1, kA)));
  ASSERT_TRUE(pool.put(&conn(newer, 1, kA)));
  EXPECT_EQ(pool.take(1, kA), &newer);
  EXPECT_TRUE(newer.reused);
  EXPECT_FALSE(newer.pooled);
  EXPECT_EQ(pool.take(1, kA), &older);
  EXPECT_EQ(pool.take(1, kA), nullptr);
  EXPECT_EQ(pool.first(1), nullptr);
}

TEST(UpstreamPool, TakesOnlyAConnectionToTheAskedEndpoint) {
  UpstreamPool pool(4, 8);
  UpstreamConn toA, toB;
  ASSERT_TRUE(pool.put(&conn(toA, 2, kA)));
  ASSERT_TRUE(pool.put(&conn(toB, 2, kB))); // the target moved: the slot has both
  EXPECT_EQ(pool.take(2, kA), &toA);
  EXPECT_EQ(pool.take(2, kA), nullptr);
  EXPECT_EQ(pool.first(2), &toB);
  EXPECT_EQ(pool.take(3, kB), nullptr); // other slots are other lists
}

TEST(UpstreamPool, RefusesMoreThanMaxIdlePerTarget) {
  UpstreamPool pool(2, 2);
  UpstreamConn a, b, c, d;
  EXPECT_TRUE(pool.put(&conn(a, 0, kA)));
  EXPECT_TRUE(pool.put(&conn(b, 0, kA)));
  EXPECT_FALSE(pool.put(&conn(c, 0, kA)));
  EXPECT_FALSE(c.pooled);
  EXPECT_TRUE(pool.put(&conn(d, 1, kA))); // the bound is per target slot
  pool.remove(&a);
  EXPECT_TRUE(pool.put(&c)); // room again
}

TEST(UpstreamPool, RemoveUnlinksAnyConnectionAndIgnoresOnesNotPooled) {
  UpstreamPool pool(1, 8);
  UpstreamConn a, b, c, loose;
  pool.put(&conn(a, 0, kA));
  pool.put(&conn(b, 0, kA));
  pool.put(&conn(c, 0, kA)); // list: c b a
  pool.remove(&b);
  EXPECT_FALSE(b.pooled);
  ASSERT_EQ(pool.first(0), &c);
  EXPECT_EQ(c.poolNext, &a);
  EXPECT_EQ(a.poolPrev, &c);
  pool.remove(&conn(loose, 0, kA)); // not in the pool: nothing happens
  pool.remove(&c);
  EXPECT_EQ(pool.first(0), &a);
  EXPECT_EQ(a.poolPrev, nullptr);
}

} // namespace
} // namespace tide::balancer
