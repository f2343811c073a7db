#include "detectors/fusion.h"

namespace ctmon {

const char* detector_name(DetectorBit bit) {
  switch (bit) {
    case kDetectorPoint: return "point";
    case kDetectorCusum: return "cusum";
    case kDetectorMultivariate: return "multivariate";
    case kDetectorSeasonal: return "seasonal";
  }
  return "unknown";
}

}  // namespace ctmon
