#pragma once
// The sender's decisions, as pure functions so that they are unit-tested without a server:
// what an HTTP answer means, how long to wait before the next try, and how a batch that
// InfluxDB refused is bisected down to the line it could not parse.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace ctmon::influx {

/// What to do after one write request.
enum class Outcome {
  kSent,          ///< 2xx: every line of the request is stored; remove them from the outbox
  kBadBatch,      ///< 400 or 422: at least one line is unacceptable; bisect (a single line: set aside)
  kTooLarge,      ///< 413: halve the batch (a single line: set aside)
  kThrottled,     ///< 429 or 503: wait Retry-After (else back off), keep the lines
  kUnauthorized,  ///< 401: credentials wrong or missing; keep the lines, back off, say so
  kForbidden,     ///< 403: no write permission; keep, back off, say so
  kNotFound,      ///< 404: database/bucket/org (or the endpoint: v2 on a 1.x server) missing
  kServerError,   ///< other 5xx and unexpected codes: keep, back off
  kUnreachable,   ///< no HTTP answer (connection refused, timeout, name unknown): keep, back off
  kTlsFailure,    ///< the TLS handshake or the server's certificate was refused: keep, back off
};

/// Maps an HTTP status (0 = no answer) to an outcome.
[[nodiscard]] Outcome classify_http_status(long status);

/// A short English name for status lines and logs ("unauthorized", "server error", ...).
[[nodiscard]] std::string_view to_string(Outcome outcome);

inline constexpr std::int64_t kBackoffInitial_ms = 1'000;
inline constexpr std::int64_t kBackoffMax_ms = 300'000;
/// A server asking for more than this is not believed (Telegraf caps it at 600 s as well).
inline constexpr std::int64_t kRetryAfterMax_ms = 600'000;

/// Delay before retry number `failures` (1 = after the first failure): exponential,
/// initial_ms * 2^(failures-1) capped at max_ms, with "equal jitter": half of it fixed, the other
/// half scaled by `unit_random` in [0, 1), so many routers that lost the same server do not come
/// back in lockstep, yet the wait never collapses to 0.
[[nodiscard]] std::int64_t backoff_delay_ms(std::uint32_t failures, double unit_random,
                                            std::int64_t initial_ms = kBackoffInitial_ms,
                                            std::int64_t max_ms = kBackoffMax_ms);

/// Parses a Retry-After header value given in seconds ("120", " 5 "); returns milliseconds,
/// capped at kRetryAfterMax_ms. The HTTP-date form and garbage give nothing (the caller then backs
/// off exponentially).
[[nodiscard]] std::optional<std::int64_t> parse_retry_after_ms(std::string_view value);

/// The same for one raw header line as curl hands it over ("Retry-After: 120\r\n", any case);
/// nothing for every other header.
[[nodiscard]] std::optional<std::int64_t> retry_after_header_ms(std::string_view line);

/// Splits a refused batch until the bad lines are isolated. Holds a stack of index ranges
/// [begin, end) into the batch; the top is the range to send next. A refused range of one line
/// is the bad line; a refused larger range is replaced by its two halves (first half on top).
/// Requests needed for one bad line among n: about 2*log2(n) (26 for 5000).
class Bisector {
 public:
  using Range = std::pair<std::size_t, std::size_t>;

  /// Starts over with one range covering `n` lines (nothing to do when n == 0).
  void reset(std::size_t n);
  [[nodiscard]] bool done() const { return stack_.empty(); }
  /// The range to send next; undefined when done().
  [[nodiscard]] Range current() const { return stack_.back(); }
  /// The current range was accepted.
  void accepted() { stack_.pop_back(); }
  /// The current range was refused. Returns true when it was a single line (the caller sets it
  /// aside); otherwise its halves are queued.
  bool refused();

 private:
  std::vector<Range> stack_;
};

}  // namespace ctmon::influx
