#pragma once
// Where samples come from. The daemon reads the kernel (nft/netlink_source.h); `ctmon replay`
// and the tests read a replay CSV (csv_source.h). Everything downstream runs the same code
// whichever source feeds it.

#include "core/sample.h"

namespace ctmon {

class CounterSource {
 public:
  virtual ~CounterSource() = default;

  /// Reads the next sample into `out` (reusing its storage), interning every counter name in
  /// `catalog` so that `out.counters[id]` lines up with it. Returns false when the source has no
  /// more samples (end of a file; a live source never ends). Throws ctmon::UserError with a
  /// one-line message when the source cannot be read.
  virtual bool next(Sample& out, CounterCatalog& catalog) = 0;
};

}  // namespace ctmon
