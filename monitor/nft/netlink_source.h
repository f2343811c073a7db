#pragma once
// The kernel as a CounterSource: each next() is one netlink dump, stamped with the monotonic and
// the wall clock at the moment of reading.

#include <vector>

#include "monitor/nft/counter_reader.h"
#include "monitor/source/counter_source.h"

namespace ctmon::nft {

class NetlinkSource : public CounterSource {
 public:
  /// Opens the socket (throws NftError when the kernel has no nfnetlink).
  explicit NetlinkSource(TableRef table) : reader_(std::move(table)) {}

  /// Reads the counters now. Counters of the catalog that the table no longer has come out
  /// absent. Never returns false; throws NftError when the table cannot be read (missing table,
  /// no permission, ...), leaving `out` unchanged.
  bool next(Sample& out, CounterCatalog& catalog) override;

  [[nodiscard]] CounterReader& reader() { return reader_; }

 private:
  CounterReader reader_;
  std::vector<CounterReading> readings_;
};

}  // namespace ctmon::nft
