// libFuzzer target: the netlink replies of a counter dump, parsed the way CounterReader::read
// parses them (libmnl walks the datagram, parse_counter_message reads each NFT_MSG_NEWOBJ).
// The kernel is trusted, but a parser that crashes on a malformed message is a bug either way.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include <libmnl/libmnl.h>

#include "monitor/nft/counter_reader.h"

namespace {

int on_message(const nlmsghdr* message, void* data) {
  auto& readings = *static_cast<std::vector<ctmon::nft::CounterReading>*>(data);
  readings.emplace_back();
  return ctmon::nft::parse_counter_message(message, readings.back()) ? MNL_CB_OK : MNL_CB_ERROR;
}

// libmnl 1.0.4's mnl_nlmsg_ok compares nlmsg_len as a signed int, so a length of 2^31 or more
// passes and the walk jumps out of the buffer. The kernel never sends one (a reply datagram is at
// most the 32 KiB we receive into), so such buffers test libmnl, not ctmon: they are skipped.
bool lengths_below_2g(const char* buffer, std::size_t size) {
  std::size_t offset = 0;
  while (size - offset >= sizeof(nlmsghdr)) {
    std::uint32_t length = 0;
    std::memcpy(&length, buffer + offset + offsetof(nlmsghdr, nlmsg_len), sizeof(length));
    if (length >= 0x80000000u) return false;
    if (length < sizeof(nlmsghdr) || length > size - offset) return true;  // libmnl stops here
    offset += std::min<std::size_t>(MNL_ALIGN(length), size - offset);
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // libmnl reads headers in place: give it a copy with the heap's alignment, as recvfrom's buffer
  // has, and exactly `size` bytes long so that AddressSanitizer sees any read past the end.
  const std::vector<char> copy(data, data + size);
  if (!lengths_below_2g(copy.data(), size)) return 0;
  std::vector<ctmon::nft::CounterReading> readings;
  // Sequence and port 0: libmnl then checks neither, so every message reaches the parser.
  (void)mnl_cb_run(copy.data(), size, 0, 0, on_message, &readings);
  return 0;
}
