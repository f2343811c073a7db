#pragma once
// Little-endian byte encoding of detector state, so that a daemon restart (or a router of the
// other endianness reading a copied database) resumes from the saved model instead of warming up
// again. Writers append; readers never throw and never read past the end: the first short or
// malformed read latches `ok() == false` and every later read returns 0.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ctmon {

/// Appends fixed-width little-endian values to a byte string it owns.
class ByteWriter {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v);
  void u64(std::uint64_t v);
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void f64(double v);
  /// Length-prefixed (u32) string.
  void str(std::string_view s);
  void f64s(const std::vector<double>& v);

  /// The bytes written so far; the writer stays usable.
  [[nodiscard]] const std::string& bytes() const { return out_; }
  [[nodiscard]] std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

/// Reads what ByteWriter wrote from a view of bytes the caller keeps alive.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}

  std::uint8_t u8();
  std::uint32_t u32();
  std::uint64_t u64();
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  double f64();
  std::string str();
  /// Reads a length-prefixed vector; fails (ok() false) unless its length is `expected_size`,
  /// which is how a shape mismatch is caught before anything is overwritten.
  bool f64s(std::vector<double>& out, std::size_t expected_size);

  /// False once any read ran short or a check failed; then every value read is meaningless.
  [[nodiscard]] bool ok() const { return ok_; }
  /// Marks the input as malformed (used by loaders that validate what they read).
  void fail() { ok_ = false; }
  [[nodiscard]] bool at_end() const { return pos_ == in_.size(); }

 private:
  bool take(std::size_t n);
  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace ctmon
