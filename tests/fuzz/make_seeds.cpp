// Writes the seed inputs of the fuzz targets that are binary: sample blocks from the encoder,
// detector state from a real Analyzer, and netlink counter dumps recorded from the kernel.
// The committed corpora under tests/fuzz/corpus/ came from here:
//
//   fuzz_make_seeds block  tests/fuzz/corpus/block_codec
//   fuzz_make_seeds state  tests/fuzz/corpus/detector_state
//   unshare -n sh -c 'ip link set lo up && nft -f rules/conntrack-counter.nft &&
//     python3 -c "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM);
//                 [s.sendto(b'x', ('127.0.0.1', 9)) for _ in range(5)]" &&
//     fuzz_make_seeds netlink tests/fuzz/corpus/netlink_counter'
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <libmnl/libmnl.h>
#include <libnftnl/object.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "detectors/analyzer.h"
#include "monitor/store/block_codec.h"
#include "tests/monitor/store/synthetic_mix.h"

namespace {

constexpr std::int64_t kS = 1'000'000'000;
constexpr std::int64_t kWall0 = 1'795'000'000 * kS;

void write(const std::string& path, const void* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out.flush()) {
    std::fprintf(stderr, "%s: cannot be written\n", path.c_str());
    std::exit(1);
  }
}

std::vector<ctmon::Sample> mix(std::size_t count, std::int64_t interval_ns, std::int64_t reset_at = 0) {
  ctmon::store::testing::SyntheticMix source(interval_ns, kWall0, 7, reset_at);
  std::vector<ctmon::Sample> samples;
  for (std::size_t k = 0; k < count; ++k) samples.push_back(source.next());
  return samples;
}

void blocks(const std::string& dir) {
  using ctmon::store::encode_block;
  // Small blocks: the fuzzer mutates short inputs best; each shape exercises another path.
  auto save = [&](const std::string& name, const std::vector<ctmon::Sample>& samples,
                  ctmon::store::BlockOptions options) {
    const auto block = encode_block(samples, options);
    write(dir + "/" + name, block.data(), block.size());
  };
  save("one_sample", mix(1, 5 * kS), {});
  save("twelve_samples_bytes", mix(12, 5 * kS), {});
  save("twelve_samples_no_bytes", mix(12, 5 * kS), {.time_unit_ns = 1000, .store_bytes = false});
  save("reset_exact_ns", mix(12, kS, kWall0 + 6 * kS), {.time_unit_ns = 1, .store_bytes = true});
  auto sparse = mix(10, 5 * kS);
  for (std::size_t k = 0; k < sparse.size(); k += 3) sparse[k].counters.resize(4);  // absent counters
  sparse[4].counters[2].present = false;
  save("absent_counters", sparse, {});
}

void states(const std::string& dir) {
  // Two counters keep the state small (the fuzzer mutates short inputs best): a few hundred
  // samples at a 5 s interval (warm-up not over) and, past warm-up, a burst that leaves an
  // episode open: the two shapes of state a daemon saves.
  auto samples = mix(900, 5 * kS);
  ctmon::store::testing::SyntheticMix names(5 * kS, kWall0);
  ctmon::CounterCatalog catalog;
  for (ctmon::CounterId id = 0; id < 2; ++id) catalog.intern(names.catalog().name(id));
  for (auto& sample : samples) sample.counters.resize(catalog.size());
  ctmon::Analyzer analyzer(ctmon::AnalyzerConfig::network(5.0));
  for (std::size_t k = 0; k < 100; ++k) analyzer.observe(samples[k], catalog, 3600);
  const std::string cold = analyzer.save_state();
  write(dir + "/warming_up", cold.data(), cold.size());
  for (std::size_t k = 100; k < 880; ++k) analyzer.observe(samples[k], catalog, 3600);
  std::uint64_t extra = 0;
  bool open = false;
  for (std::size_t k = 880; k < 900 && !open; ++k) {
    extra += 200000;
    for (auto& counter : samples[k].counters) counter.packets += extra;
    analyzer.observe(samples[k], catalog, 3600);
    open = analyzer.open_episode() != nullptr;
  }
  const std::string warm = analyzer.save_state();
  write(dir + std::string(open ? "/episode_open" : "/warm"), warm.data(), warm.size());
}

struct SocketClose {
  void operator()(mnl_socket* socket) const { mnl_socket_close(socket); }
};
struct ObjectFree {
  void operator()(nftnl_obj* object) const { nftnl_obj_free(object); }
};

void netlink(const std::string& dir) {
  std::unique_ptr<mnl_socket, SocketClose> socket(mnl_socket_open(NETLINK_NETFILTER));
  if (!socket || mnl_socket_bind(socket.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    std::perror("netlink socket");
    std::exit(1);
  }
  std::vector<char> buffer(32768);  // what CounterReader receives into
  const auto seq = static_cast<std::uint32_t>(std::time(nullptr));
  const std::unique_ptr<nftnl_obj, ObjectFree> filter(nftnl_obj_alloc());
  if (!filter) throw std::bad_alloc();
  nftnl_obj_set_str(filter.get(), NFTNL_OBJ_TABLE, "conntrack_stats");
  nftnl_obj_set_u32(filter.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buffer.data(), NFT_MSG_GETOBJ, NFPROTO_IPV4, NLM_F_DUMP, seq);
  nftnl_obj_nlmsg_build_payload(nlh, filter.get());
  if (mnl_socket_sendto(socket.get(), nlh, nlh->nlmsg_len) < 0) {
    std::perror("sendto");
    std::exit(1);
  }
  // Each datagram as received, and each message of the first one on its own.
  for (int datagram = 0;; ++datagram) {
    const ssize_t received = mnl_socket_recvfrom(socket.get(), buffer.data(), buffer.size());
    if (received <= 0) {
      std::perror("recvfrom");
      std::exit(1);
    }
    write(dir + "/dump_datagram_" + std::to_string(datagram), buffer.data(), static_cast<std::size_t>(received));
    bool done = false;
    int index = 0;
    int len = static_cast<int>(received);
    for (auto* message = reinterpret_cast<const nlmsghdr*>(buffer.data()); mnl_nlmsg_ok(message, len);
         message = mnl_nlmsg_next(message, &len), ++index) {
      if (message->nlmsg_type == NLMSG_DONE || message->nlmsg_type == NLMSG_ERROR) done = true;
      if (datagram == 0 && index < 3)
        write(dir + "/message_" + std::to_string(index), message, message->nlmsg_len);
    }
    if (done) break;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string what = argc == 3 ? argv[1] : "";
  if (what == "block") blocks(argv[2]);
  else if (what == "state") states(argv[2]);
  else if (what == "netlink") netlink(argv[2]);
  else {
    std::fprintf(stderr, "usage: %s block|state|netlink DIR\n", argv[0]);
    return 1;
  }
  return 0;
}
