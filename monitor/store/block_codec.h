#pragma once
// The sample block: many consecutive samples of every counter, encoded column by column so that
// a 300 s block of 18 counters (packets and bytes) fits one 4 KiB SQLite page. The byte layout is
// specified in schema/README.md ("Block format"); this header is the code side of it.
//
// Encoding, in short: times and counter values become differences from the previous sample
// (mono: minus the block's typical step; wall: change of wall-minus-mono), zigzag-mapped to
// unsigned, and each column is bit-packed at the width that minimises its size, with the few
// values that do not fit stored as exceptions (PFOR). Bytes columns may instead store the
// difference from packets x the block's mean packet size, whichever is smaller.
// Differences are taken modulo 2^64, so any pair of u64 values (a reset, a 64-bit wrap, a jump)
// round-trips exactly; telling them apart is the reader's business, and the data allows it.

#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

#include "core/sample.h"
#include "core/time.h"

namespace ctmon::store {

/// The version byte that starts every block this code writes.
inline constexpr std::uint8_t kBlockFormatVersion = 1;

/// Largest block the decoder accepts (samples and counter columns): a guard against corrupt
/// blocks asking for absurd allocations, far above any real block (300 s at 10 Hz = 3000).
inline constexpr std::size_t kMaxBlockSamples = 1u << 20;
inline constexpr std::size_t kMaxBlockCounters = 1u << 16;
/// Largest samples x (largest counter id + 1) the decoder accepts: what it allocates (24 bytes a
/// cell, so at most 96 MiB) however few bytes a corrupt block has, since absent counters take no
/// space. The writer holds the same cells in RAM while it fills a block, so no block a router
/// can write comes near (300 s at 20 Hz of 699 counters would).
inline constexpr std::size_t kMaxBlockCells = 1u << 22;

/// A block that cannot be decoded (truncated, unknown version, inconsistent). what() says where.
class BlockFormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct BlockOptions {
  /// Timestamps are stored in units of this many ns (floor division). 1 keeps them exact;
  /// 1000 (us) costs ~1 byte/sample less for a real timer's jitter and is far below any
  /// precision a rate needs. Every block records its own unit.
  std::int64_t time_unit_ns = 1000;
  /// Store the bytes totals too. Without them a 300 s block of the router mix is ~2.9 KB (one
  /// page); with them ~4.6-6.7 KB (two pages, and twice the bytes written per day: see
  /// schema/README.md). Decoded bytes are 0 when not stored; block_has_bytes() tells.
  bool store_bytes = true;
  /// Store ids whose bytes are stored even when store_bytes is false: the mean counters
  /// (core/measurement.h), whose bytes are the sums of their values, not a redundancy.
  std::vector<std::uint8_t> keep_bytes;
};

/// Encodes `samples` (at least one) into a self-contained block. `counters[id]` of each sample is
/// indexed by the *store's* counter id (the side table `counters`); a sample may have fewer
/// entries than another (the missing ones are absent). Counters absent from every sample take no
/// space. Never fails for valid input; throws std::invalid_argument on an empty span.
[[nodiscard]] std::vector<std::uint8_t> encode_block(std::span<const Sample> samples,
                                                     const BlockOptions& options = {});

/// Decodes a block written by encode_block. Every returned sample's `counters` has the size of
/// the largest counter id in the block plus one; absent entries are {0, 0, false}. Timestamps come
/// back as multiples of the block's time unit (exact when the unit is 1 ns).
/// Throws BlockFormatError on a truncated or malformed block.
[[nodiscard]] std::vector<Sample> decode_block(std::span<const std::uint8_t> block);

/// Whether `block` carries bytes totals (BlockOptions::store_bytes when it was written).
/// Throws BlockFormatError when the block is too short to say.
[[nodiscard]] bool block_has_bytes(std::span<const std::uint8_t> block);

}  // namespace ctmon::store
