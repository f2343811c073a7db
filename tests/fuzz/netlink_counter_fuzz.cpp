// libFuzzer target: the netlink replies of a counter dump, parsed the way CounterReader::read
// parses them (libmnl walks the datagram, parse_counter_message reads each NFT_MSG_NEWOBJ).
// The kernel is trusted, but a parser that crashes on a malformed message is a bug either way.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include <libmnl/libmnl.h>

#include "monitor/nft/counter_reader.h"

namespace {

int on_message(const nlmsghdr* message, void* data) {
  auto& readings = *static_cast<std::vector<ctmon::nft::CounterReading>*>(data);
  readings.emplace_back();
  return ctmon::nft::parse_counter_message(message, readings.back()) ? MNL_CB_OK : MNL_CB_ERROR;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // libmnl reads headers in place: give it a copy with the heap's alignment, as recvfrom's buffer
  // has, and exactly `size` bytes long so that AddressSanitizer sees any read past the end.
  const auto aligned = std::make_unique<char[]>(size);
  if (size > 0) std::memcpy(aligned.get(), data, size);
  std::vector<ctmon::nft::CounterReading> readings;
  // Sequence and port 0: libmnl then checks neither, so every message reaches the parser.
  (void)mnl_cb_run(aligned.get(), size, 0, 0, on_message, &readings);
  return 0;
}
