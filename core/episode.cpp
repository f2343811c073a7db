#include "core/episode.h"

namespace ctmon {

std::string_view to_string(EpisodeKind kind) {
  switch (kind) {
    case EpisodeKind::unknown: return "unknown";
    case EpisodeKind::wan_drop: return "wan_drop";
    case EpisodeKind::invalid_burst: return "invalid_burst";
    case EpisodeKind::scan: return "scan";
    case EpisodeKind::udp_storm: return "udp_storm";
    case EpisodeKind::conntrack_full: return "conntrack_full";
  }
  return "unknown";
}

std::string_view to_string(Where where) {
  switch (where) {
    case Where::unknown: return "unknown";
    case Where::isp: return "isp";
    case Where::router: return "router";
    case Where::lan_device: return "lan_device";
  }
  return "unknown";
}

std::string_view detector_name(DetectorBit bit) {
  switch (bit) {
    case kDetectorPoint: return "point";
    case kDetectorCusum: return "cusum";
    case kDetectorMultivariate: return "multivariate";
    case kDetectorSeasonal: return "seasonal";
  }
  return "unknown";
}

std::vector<std::string_view> detector_names(std::uint8_t bits) {
  std::vector<std::string_view> names;
  for (const DetectorBit bit : {kDetectorPoint, kDetectorCusum, kDetectorMultivariate, kDetectorSeasonal})
    if ((bits & bit) != 0) names.push_back(detector_name(bit));
  return names;
}

}  // namespace ctmon
