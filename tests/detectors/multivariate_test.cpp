#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "detectors/multivariate.h"

namespace ctmon {
namespace {

// Deterministic correlated noise: established and new move together (shared load), invalid alone.
struct Noise {
  std::uint64_t s = 7;
  double normal() {
    double u[2];
    for (double& x : u) {
      s ^= s << 13;
      s ^= s >> 7;
      s ^= s << 17;
      x = (static_cast<double>(s >> 11) + 0.5) * 0x1.0p-53;
    }
    return std::sqrt(-2 * std::log(u[0])) * std::cos(6.283185307179586 * u[1]);
  }
};

}  // namespace

TEST_CASE("Mahalanobis score is zero before min_samples and small for ordinary vectors") {
  ShrinkageMahalanobis m(3, {0.01, 0.2, 16, 100});
  const double z[3] = {0.1, 0.2, -0.1};
  CHECK(m.score(z) == 0.0);
  Noise n;
  for (int i = 0; i < 2000; ++i) {
    const double load = n.normal();
    const double v[3] = {load + 0.3 * n.normal(), load + 0.3 * n.normal(), n.normal()};
    m.learn(v);
  }
  const double ordinary[3] = {1.0, 1.0, 0.0};  // both up together: what load does
  CHECK(m.score(ordinary) < 3.0);
}

TEST_CASE("counters moving against their correlation score far higher than moving with it") {
  ShrinkageMahalanobis m(3, {0.01, 0.2, 16, 100});
  Noise n;
  for (int i = 0; i < 3000; ++i) {
    const double load = n.normal();
    const double v[3] = {load + 0.3 * n.normal(), load + 0.3 * n.normal(), n.normal()};
    m.learn(v);
  }
  const double with_load[3] = {2.0, 2.0, 0.0};
  const double wan_pattern[3] = {-2.0, 2.0, 0.0};  // established falls while new rises
  const double together = m.score(with_load);
  const double against = m.score(wan_pattern);
  CHECK(against > together + 3.0);
  CHECK(against > 4.0);
  CHECK(m.last_distance2() > 9.0);
}

TEST_CASE("the multivariate state round-trips and rejects another dimension") {
  ShrinkageMahalanobis a(4, {});
  Noise n;
  for (int i = 0; i < 500; ++i) {
    const double v[4] = {n.normal(), n.normal(), n.normal(), n.normal()};
    a.learn(v);
  }
  ByteWriter w;
  a.save(w);
  ShrinkageMahalanobis b(4, {});
  ByteReader r(w.bytes());
  b.load(r);
  REQUIRE(r.ok());
  const double probe[4] = {1, -2, 0.5, 3};
  CHECK(b.score(probe) == Approx(a.score(probe)));
  ShrinkageMahalanobis c(5, {});
  ByteReader r2(w.bytes());
  c.load(r2);
  CHECK_FALSE(r2.ok());
}

}  // namespace ctmon
