#include "core/episode.h"

#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

using namespace ctmon;
using Names = std::vector<std::string_view>;

TEST_CASE("detector_names lists the set bits in bit order") {
  CHECK(detector_names(0).empty());
  CHECK(detector_names(kDetectorSeasonal | kDetectorPoint) == Names{"point", "seasonal"});
  CHECK(detector_names(kDetectorPoint | kDetectorCusum | kDetectorMultivariate | kDetectorSeasonal) ==
        Names{"point", "cusum", "multivariate", "seasonal"});
}

TEST_CASE("detector_names leaves out bits that name no detector") {
  CHECK(detector_names(0xF0 | kDetectorCusum) == Names{"cusum"});
}

TEST_CASE("detector_name and to_string give the events-contract spellings") {
  CHECK(detector_name(kDetectorMultivariate) == "multivariate");
  CHECK(detector_name(static_cast<DetectorBit>(0x30)) == "unknown");
  CHECK(to_string(EpisodeKind::wan_drop) == "wan_drop");
  CHECK(to_string(EpisodeKind::conntrack_full) == "conntrack_full");
  CHECK(to_string(static_cast<EpisodeKind>(200)) == "unknown");
}
