#include "monitor/store/block_codec.h"

#include <algorithm>
#include <array>
#include <bit>
#include <string>

namespace ctmon::store {
namespace {

// ---- primitives --------------------------------------------------------------------------------

std::uint64_t zigzag(std::int64_t v) {
  const auto u = static_cast<std::uint64_t>(v);
  return (u << 1) ^ (v < 0 ? ~std::uint64_t{0} : 0);
}
std::int64_t unzigzag(std::uint64_t u) {
  return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

// Bit packing, least significant bit first, through a 64-bit accumulator: 32-bit routers
// (mipsel, armhf) have no 128-bit integer. Fewer than 8 bits wait in the accumulator between
// values, so a piece of at most 56 bits always fits; wider values go in two pieces, which
// writes the same bits in the same order.
constexpr int kMaxPieceBits = 56;

class BitPacker {
 public:
  template <class EmitByte>
  void put(std::uint64_t value, int width, EmitByte&& emit) {
    if (width > kMaxPieceBits) {
      put(value & 0xFFFF'FFFFu, 32, emit);
      put(value >> 32, width - 32, emit);
      return;
    }
    acc_ |= value << nbits_;
    nbits_ += width;
    for (; nbits_ >= 8; nbits_ -= 8, acc_ >>= 8) emit(static_cast<std::uint8_t>(acc_));
  }
  template <class EmitByte>
  void finish(EmitByte&& emit) {
    if (nbits_ > 0) emit(static_cast<std::uint8_t>(acc_));
  }

 private:
  std::uint64_t acc_ = 0;
  int nbits_ = 0;
};

class BitUnpacker {
 public:
  /// The next `width` bits; `next_byte()` supplies the bytes (the caller sized the input).
  template <class NextByte>
  std::uint64_t get(int width, NextByte&& next_byte) {
    if (width > kMaxPieceBits) {
      const std::uint64_t low = get(32, next_byte);
      return low | get(width - 32, next_byte) << 32;
    }
    for (; nbits_ < width; nbits_ += 8) acc_ |= static_cast<std::uint64_t>(next_byte()) << nbits_;
    const std::uint64_t value = width == 0 ? 0 : acc_ & (~std::uint64_t{0} >> (64 - width));
    acc_ = width == 0 ? acc_ : acc_ >> width;
    nbits_ -= width;
    return value;
  }

 private:
  std::uint64_t acc_ = 0;
  int nbits_ = 0;
};

int uvarint_len(std::uint64_t v) { return v < 128 ? 1 : (std::bit_width(v) + 6) / 7; }

class Writer {
 public:
  void u8(std::uint8_t b) { out_.push_back(b); }
  void uvarint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<std::uint8_t>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<std::uint8_t>(v));
  }
  void svarint(std::int64_t v) { uvarint(zigzag(v)); }
  std::vector<std::uint8_t>& bytes() { return out_; }

 private:
  std::vector<std::uint8_t> out_;
};

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> in) : in_(in) {}
  std::uint8_t u8(const char* what) {
    if (pos_ >= in_.size()) fail(what);
    return in_[pos_++];
  }
  std::uint64_t uvarint(const char* what) {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const std::uint8_t b = u8(what);
      if (shift == 63 && b > 1) fail(what);  // more than 64 bits
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    fail(what);
  }
  std::int64_t svarint(const char* what) { return unzigzag(uvarint(what)); }
  std::span<const std::uint8_t> take(std::size_t n, const char* what) {
    if (in_.size() - pos_ < n) fail(what);
    auto s = in_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  [[nodiscard]] bool at_end() const { return pos_ == in_.size(); }
  [[noreturn]] void fail(const char* what) const {
    throw BlockFormatError(std::string("sample block truncated or malformed at byte ") +
                           std::to_string(pos_) + " (" + what + ")");
  }

 private:
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
};

// ---- PFOR column: frame of reference + bit packing + exceptions ---------------------------------
// Layout: u8 width b, uvarint base, uvarint n_exc (absent when b == 64), ceil(c*b/8) packed bytes
// (LSB first), then n_exc x (uvarint index gap, uvarint high bits).

std::size_t pfor_size(std::span<const std::uint64_t> r, int b) {
  std::size_t size = 1 + (r.size() * static_cast<std::size_t>(b) + 7) / 8;
  if (b == 64) return size;
  std::size_t n_exc = 0, prev = 0;
  for (std::size_t k = 0; k < r.size(); ++k) {
    const std::uint64_t hi = r[k] >> b;
    if (hi) {
      size += uvarint_len(k - prev) + uvarint_len(hi);
      prev = k;
      ++n_exc;
    }
  }
  return size + uvarint_len(n_exc);
}

void put_column(Writer& w, std::span<const std::uint64_t> values) {
  if (values.empty()) return;  // the reader knows the count: an empty column takes no bytes
  std::uint64_t base = values.empty() ? 0 : *std::min_element(values.begin(), values.end());
  std::vector<std::uint64_t> r(values.size());
  std::uint64_t all = 0;
  for (std::size_t k = 0; k < values.size(); ++k) all |= (r[k] = values[k] - base);
  const int max_b = std::bit_width(all);
  int best_b = max_b;
  std::size_t best = pfor_size(r, max_b);
  // Narrower widths pay when few values exceed them (a quiet counter with rare bursts).
  for (int b = max_b - 1; b >= 0; --b) {
    const std::size_t s = pfor_size(r, b);
    if (s < best) best = s, best_b = b;
  }
  w.u8(static_cast<std::uint8_t>(best_b));
  w.uvarint(base);
  const std::uint64_t mask = best_b == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << best_b) - 1;
  std::vector<std::pair<std::size_t, std::uint64_t>> exc;
  if (best_b < 64) {
    for (std::size_t k = 0; k < r.size(); ++k)
      if (r[k] >> best_b) exc.emplace_back(k, r[k] >> best_b);
    w.uvarint(exc.size());
  }
  BitPacker packer;
  const auto emit = [&w](std::uint8_t byte) { w.u8(byte); };
  for (const std::uint64_t v : r) packer.put(v & mask, best_b, emit);
  packer.finish(emit);
  std::size_t prev = 0;
  for (const auto& [k, hi] : exc) {
    w.uvarint(k - prev);
    w.uvarint(hi);
    prev = k;
  }
}

std::vector<std::uint64_t> get_column(Reader& rd, std::size_t count) {
  if (count == 0) return {};
  const int b = rd.u8("column width");
  if (b > 64) rd.fail("column width > 64");
  const std::uint64_t base = rd.uvarint("column base");
  const std::uint64_t n_exc = b < 64 ? rd.uvarint("exception count") : 0;
  if (n_exc > count) rd.fail("exception count");
  const auto packed = rd.take((count * static_cast<std::size_t>(b) + 7) / 8, "packed bits");
  std::vector<std::uint64_t> out(count);
  BitUnpacker unpacker;
  std::size_t pos = 0;
  const auto next_byte = [&packed, &pos] { return packed[pos++]; };
  for (std::size_t k = 0; k < count; ++k) out[k] = unpacker.get(b, next_byte);
  std::size_t idx = 0;
  for (std::uint64_t e = 0; e < n_exc; ++e) {
    const std::uint64_t gap = rd.uvarint("exception index");
    if (gap > count || (e > 0 && gap == 0) || idx + gap >= count) rd.fail("exception index");
    idx += gap;
    out[idx] |= rd.uvarint("exception value") << b;
  }
  for (auto& v : out) v += base;
  return out;
}

// Encodes into a scratch writer and returns its size; used to pick the smaller of two modes.
template <class F>
std::vector<std::uint8_t> scratch(F&& f) {
  Writer w;
  f(w);
  return std::move(w.bytes());
}

constexpr std::uint8_t kBlockHasBytes = 1;       // block flags: bytes columns present
constexpr std::uint8_t kFlagBitmap = 1;          // presence bitmap follows
constexpr std::uint8_t kFlagBytesPredicted = 2;  // bytes stored as residual of packets x mean size
constexpr std::uint8_t kFlagBytesSparse = 4;     // bytes differences only where packets moved
constexpr std::uint8_t kFlagOwnBytes = 8;        // bytes stored for this counter in a block without

}  // namespace

bool block_has_bytes(std::span<const std::uint8_t> block) {
  if (block.size() < 2) throw BlockFormatError("sample block shorter than its header");
  return block[1] & kBlockHasBytes;
}

std::vector<std::uint8_t> encode_block(std::span<const Sample> samples, const BlockOptions& options) {
  if (samples.empty()) throw std::invalid_argument("encode_block: no samples");
  if (options.time_unit_ns < 1) throw std::invalid_argument("encode_block: time unit < 1 ns");
  const std::size_t n = samples.size();
  const std::int64_t unit = options.time_unit_ns;
  Writer w;
  w.u8(kBlockFormatVersion);
  w.u8(options.store_bytes ? kBlockHasBytes : 0);
  w.uvarint(static_cast<std::uint64_t>(unit));
  w.uvarint(n);
  std::vector<std::int64_t> mono(n), wall(n);
  for (std::size_t k = 0; k < n; ++k) {
    mono[k] = floor_div(samples[k].mono_ns, unit);
    wall[k] = floor_div(samples[k].wall_ns, unit);
  }
  w.svarint(mono[0]);
  w.svarint(wall[0]);
  if (n >= 2) {
    // mono: difference from the block's median step, so a regular timer costs only its jitter
    // and a gap or a late tick is one exception. Arithmetic in u64: wraps, never overflows.
    std::vector<std::int64_t> steps(n - 1);
    for (std::size_t k = 1; k < n; ++k)
      steps[k - 1] = static_cast<std::int64_t>(static_cast<std::uint64_t>(mono[k]) -
                                               static_cast<std::uint64_t>(mono[k - 1]));
    auto sorted = steps;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2),
                     sorted.end());
    const std::int64_t nominal = sorted[sorted.size() / 2];
    w.svarint(nominal);
    std::vector<std::uint64_t> col(n - 1);
    for (std::size_t k = 0; k + 1 < n; ++k)
      col[k] = zigzag(static_cast<std::int64_t>(static_cast<std::uint64_t>(steps[k]) -
                                                static_cast<std::uint64_t>(nominal)));
    put_column(w, col);
    // wall: the change of (wall - mono). Zero while both clocks run together; a clock jump or
    // an NTP step is one exception, and wall going backwards is stored as it happened.
    for (std::size_t k = 1; k < n; ++k) {
      const std::uint64_t off = static_cast<std::uint64_t>(wall[k]) - static_cast<std::uint64_t>(mono[k]);
      const std::uint64_t prev = static_cast<std::uint64_t>(wall[k - 1]) - static_cast<std::uint64_t>(mono[k - 1]);
      col[k - 1] = zigzag(static_cast<std::int64_t>(off - prev));
    }
    put_column(w, col);
  }

  std::size_t width = 0;
  for (const auto& s : samples) width = std::max(width, s.counters.size());
  auto present = [&](std::size_t k, std::size_t id) {
    return id < samples[k].counters.size() && samples[k].counters[id].present;
  };
  std::vector<std::size_t> ids;
  for (std::size_t id = 0; id < width; ++id)
    for (std::size_t k = 0; k < n; ++k)
      if (present(k, id)) {
        ids.push_back(id);
        break;
      }
  w.uvarint(ids.size());
  std::size_t prev_id = 0;
  std::vector<std::uint64_t> pk, by, pcol, bcol;
  for (std::size_t c = 0; c < ids.size(); ++c) {
    const std::size_t id = ids[c];
    w.uvarint(c == 0 ? id : id - prev_id - 1);  // ids ascend: store the gap
    prev_id = id;
    const bool with_bytes = options.store_bytes || (id < options.keep_bytes.size() && options.keep_bytes[id] != 0);
    pk.clear();
    by.clear();
    std::vector<std::uint8_t> bitmap((n + 7) / 8, 0);
    for (std::size_t k = 0; k < n; ++k) {
      if (!present(k, id)) continue;
      bitmap[k / 8] |= static_cast<std::uint8_t>(1u << (k % 8));
      pk.push_back(samples[k].counters[id].packets);
      by.push_back(with_bytes ? samples[k].counters[id].bytes : 0);
    }
    const std::size_t m = pk.size();
    pcol.assign(m - 1, 0);
    bcol.assign(m - 1, 0);
    std::uint64_t sum_p = 0, sum_b = 0;
    for (std::size_t j = 1; j < m; ++j) {
      const std::uint64_t dp = pk[j] - pk[j - 1], db = by[j] - by[j - 1];
      pcol[j - 1] = zigzag(static_cast<std::int64_t>(dp));
      bcol[j - 1] = zigzag(static_cast<std::int64_t>(db));
      if (pk[j] >= pk[j - 1] && by[j] >= by[j - 1] && sum_p + dp >= sum_p && sum_b + db >= sum_b) {
        sum_p += dp;
        sum_b += db;
      }
    }
    // Bytes move with packets: bytes = packets x mean size + a small residual, and a bytes
    // counter stands still when its packets counter does. Of the four ways to store the bytes
    // differences (plain or as residual; every sample, or only where packets moved: "sparse",
    // valid when bytes never move alone) keep the smallest.
    bool sparse_ok = true;
    for (std::size_t j = 0; j + 1 < m && sparse_ok; ++j) sparse_ok = pcol[j] != 0 || bcol[j] == 0;
    std::uint64_t mean_size = 0;
    if (sum_p > 0) mean_size = (sum_b + sum_p / 2) / sum_p;
    std::vector<std::uint8_t> best_bytes;
    std::uint8_t best_flags = 0;
    for (const std::uint8_t mode : {std::uint8_t{0}, kFlagBytesPredicted, kFlagBytesSparse,
                                    static_cast<std::uint8_t>(kFlagBytesPredicted | kFlagBytesSparse)}) {
      if ((mode & kFlagBytesSparse) && !sparse_ok) continue;
      if ((mode & kFlagBytesPredicted) && sum_p == 0) continue;
      std::vector<std::uint64_t> vals;
      for (std::size_t j = 1; j < m; ++j) {
        const std::uint64_t dp = pk[j] - pk[j - 1], db = by[j] - by[j - 1];
        if ((mode & kFlagBytesSparse) && dp == 0) continue;
        vals.push_back(zigzag(static_cast<std::int64_t>(mode & kFlagBytesPredicted ? db - dp * mean_size : db)));
      }
      auto enc = scratch([&](Writer& s) {
        if (mode & kFlagBytesPredicted) s.uvarint(mean_size);
        put_column(s, vals);
      });
      if (best_bytes.empty() || enc.size() < best_bytes.size()) best_bytes = std::move(enc), best_flags = mode;
    }
    const std::uint8_t flags = static_cast<std::uint8_t>((m < n ? kFlagBitmap : 0) | (with_bytes ? best_flags : 0) |
                                                         (with_bytes && !options.store_bytes ? kFlagOwnBytes : 0));
    w.u8(flags);
    if (flags & kFlagBitmap) w.bytes().insert(w.bytes().end(), bitmap.begin(), bitmap.end());
    w.uvarint(pk[0]);
    if (with_bytes) w.uvarint(by[0]);
    if (m >= 2) {
      put_column(w, pcol);
      if (with_bytes) w.bytes().insert(w.bytes().end(), best_bytes.begin(), best_bytes.end());
    }
  }
  return std::move(w.bytes());
}

std::vector<Sample> decode_block(std::span<const std::uint8_t> block) {
  Reader rd(block);
  const std::uint8_t version = rd.u8("version");
  if (version != kBlockFormatVersion)
    throw BlockFormatError("sample block has format version " + std::to_string(version) +
                           ", this ctmon reads version " + std::to_string(kBlockFormatVersion));
  const std::uint8_t block_flags = rd.u8("block flags");
  if (block_flags & ~kBlockHasBytes) rd.fail("block flags");
  const bool has_bytes_block = block_flags & kBlockHasBytes;
  const std::uint64_t unit_u = rd.uvarint("time unit");
  if (unit_u < 1 || unit_u > 1'000'000'000'000ull) rd.fail("time unit");
  const auto unit = static_cast<std::int64_t>(unit_u);
  const std::uint64_t n = rd.uvarint("sample count");
  if (n < 1 || n > kMaxBlockSamples) rd.fail("sample count");
  std::vector<std::uint64_t> mono(n), wall(n);
  mono[0] = static_cast<std::uint64_t>(rd.svarint("first mono"));
  wall[0] = static_cast<std::uint64_t>(rd.svarint("first wall"));
  if (n >= 2) {
    const auto nominal = static_cast<std::uint64_t>(rd.svarint("nominal step"));
    const auto steps = get_column(rd, n - 1);
    const auto offs = get_column(rd, n - 1);
    for (std::size_t k = 1; k < n; ++k) {
      mono[k] = mono[k - 1] + nominal + static_cast<std::uint64_t>(unzigzag(steps[k - 1]));
      const std::uint64_t prev_off = wall[k - 1] - mono[k - 1];
      wall[k] = mono[k] + prev_off + static_cast<std::uint64_t>(unzigzag(offs[k - 1]));
    }
  }
  const std::uint64_t n_cols = rd.uvarint("counter count");
  if (n_cols > kMaxBlockCounters) rd.fail("counter count");
  struct Column {
    std::size_t id;
    std::vector<bool> present;
    std::vector<std::uint64_t> packets, bytes;
  };
  std::vector<Column> cols;
  cols.reserve(n_cols);
  std::size_t next_id = 0;
  for (std::uint64_t c = 0; c < n_cols; ++c) {
    const std::uint64_t gap = rd.uvarint("counter id");
    if (gap > kMaxBlockCounters || next_id + gap >= kMaxBlockCounters) rd.fail("counter id");
    Column col;
    col.id = next_id + gap;
    if (n * (col.id + 1) > kMaxBlockCells) rd.fail("samples x counters");
    next_id = col.id + 1;
    const std::uint8_t flags = rd.u8("column flags");
    if (flags & ~(kFlagBitmap | kFlagBytesPredicted | kFlagBytesSparse | kFlagOwnBytes)) rd.fail("column flags");
    if (has_bytes_block && (flags & kFlagOwnBytes)) rd.fail("column flags");
    const bool has_bytes = has_bytes_block || (flags & kFlagOwnBytes) != 0;
    if (!has_bytes && (flags & (kFlagBytesPredicted | kFlagBytesSparse))) rd.fail("column flags");
    col.present.assign(n, true);
    std::size_t m = n;
    if (flags & kFlagBitmap) {
      const auto bits = rd.take((n + 7) / 8, "presence bitmap");
      m = 0;
      for (std::size_t k = 0; k < n; ++k) m += (col.present[k] = (bits[k / 8] >> (k % 8)) & 1);
      if (m == 0) rd.fail("empty column");
    }
    col.packets.resize(m);
    col.bytes.resize(m);
    col.packets[0] = rd.uvarint("first packets");
    col.bytes[0] = has_bytes ? rd.uvarint("first bytes") : 0;
    if (m >= 2) {
      const auto dp = get_column(rd, m - 1);
      std::uint64_t mean_size = 0;
      if (flags & kFlagBytesPredicted) mean_size = rd.uvarint("mean packet size");
      std::size_t nb = has_bytes ? m - 1 : 0;
      if (flags & kFlagBytesSparse) nb = static_cast<std::size_t>(std::count_if(dp.begin(), dp.end(), [](std::uint64_t v) { return v != 0; }));
      const auto db = get_column(rd, nb);
      std::size_t i = 0;
      for (std::size_t j = 1; j < m; ++j) {
        const auto p_delta = static_cast<std::uint64_t>(unzigzag(dp[j - 1]));
        col.packets[j] = col.packets[j - 1] + p_delta;
        std::uint64_t b_delta = 0;
        if (has_bytes && (!(flags & kFlagBytesSparse) || p_delta != 0)) {
          b_delta = static_cast<std::uint64_t>(unzigzag(db[i++]));
          if (flags & kFlagBytesPredicted) b_delta += p_delta * mean_size;
        }
        col.bytes[j] = col.bytes[j - 1] + b_delta;
      }
    }
    cols.push_back(std::move(col));
  }
  if (!rd.at_end()) rd.fail("trailing bytes");

  const std::size_t width = cols.empty() ? 0 : cols.back().id + 1;
  std::vector<Sample> out(n);
  for (std::size_t k = 0; k < n; ++k) {
    // Multiplying back by the unit wraps like the encoder's floor division did not: times are
    // far inside +-2^63 ns (year 2262), so this is exact for every real clock.
    out[k].mono_ns = static_cast<std::int64_t>(mono[k] * static_cast<std::uint64_t>(unit));
    out[k].wall_ns = static_cast<std::int64_t>(wall[k] * static_cast<std::uint64_t>(unit));
    out[k].counters.resize(width);
  }
  for (const auto& col : cols) {
    std::size_t j = 0;
    for (std::size_t k = 0; k < n; ++k) {
      if (!col.present[k]) continue;
      out[k].counters[col.id] = CounterTotals{col.packets[j], col.bytes[j], true};
      ++j;
    }
  }
  return out;
}

}  // namespace ctmon::store
