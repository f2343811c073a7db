#pragma once
// gzip (RFC 1952) of a request body, with zlib. InfluxDB 1.6+, 1.8 and 2.x accept
// `Content-Encoding: gzip` on writes; line protocol compresses about 10:1, which matters on a
// router's uplink during an episode.

#include <string>
#include <string_view>

namespace ctmon::influx {

/// The gzip member holding `data` (default compression level). Throws std::runtime_error only
/// when zlib fails (out of memory).
[[nodiscard]] std::string gzip_compress(std::string_view data);

/// Inverse of gzip_compress, for tests. Throws std::runtime_error on corrupt input.
[[nodiscard]] std::string gzip_decompress(std::string_view data);

}  // namespace ctmon::influx
