// libFuzzer target: the sample block decoder over hostile blobs (a corrupt or foreign database).
// A blob must decode or throw BlockFormatError: never crash, never ask for more memory than a
// real block could need. What decodes must survive encode -> decode unchanged, which is the
// codec's exactness promise (block_codec.h).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "monitor/store/block_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> blob(data, size);
  std::vector<ctmon::Sample> samples;
  bool has_bytes = false;
  try {
    has_bytes = ctmon::store::block_has_bytes(blob);
    samples = ctmon::store::decode_block(blob);
  } catch (const ctmon::store::BlockFormatError&) {
    return 0;
  }
  // Re-encoding a block of a million samples takes seconds under the sanitizers; smaller blocks
  // run the same code, and the fuzzer gets through many more of them.
  if (samples.size() > (1u << 14)) return 0;
  const ctmon::store::BlockOptions exact{.time_unit_ns = 1, .store_bytes = has_bytes, .keep_bytes = {}};
  const std::vector<std::uint8_t> again = ctmon::store::encode_block(samples, exact);
  std::vector<ctmon::Sample> decoded = ctmon::store::decode_block(again);
  // A column whose every sample is absent takes no space, so trailing absent ids may vanish.
  for (auto& sample : decoded) sample.counters.resize(samples.front().counters.size());
  if (decoded != samples) __builtin_trap();
  return 0;
}
