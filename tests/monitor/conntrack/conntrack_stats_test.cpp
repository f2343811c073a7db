// The ctnetlink statistics parser on replies recorded from a Linux 6.18 kernel (host namespace,
// a fresh namespace, a namespace with traffic, a process without CAP_NET_ADMIN) and on hand-made
// ones for what this kernel does not send (fixtures/, make_edge_fixtures.py); and the reader
// against the running kernel when the test may ask it.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <linux/netlink.h>
#include <memory>
#include <string>
#include <vector>

#include "monitor/conntrack/conntrack_reader.h"
#include "monitor/conntrack/conntrack_stats.h"

namespace ctmon::conntrack {
namespace {

// A datagram in storage aligned as recvmsg's buffer is.
struct Datagram {
  std::vector<std::uint32_t> words;
  std::size_t size = 0;
  [[nodiscard]] const void* data() const { return words.data(); }
};

// Netlink headers (messages, attributes) are in the host's byte order, attribute values in
// network order. The fixtures were recorded on a little-endian machine: on a big-endian one
// (s390x under qemu in the cross build) their headers are turned around as the kernel there
// would have written them. A walk that stops at the first header that makes no sense leaves
// the garbage fixtures garbage.
void to_host_order(Datagram& d) {
  if constexpr (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) return;
  auto* bytes = reinterpret_cast<unsigned char*>(d.words.data());
  const auto swap16 = [&](std::size_t at) { std::swap(bytes[at], bytes[at + 1]); };
  const auto swap32 = [&](std::size_t at) {
    std::swap(bytes[at], bytes[at + 3]);
    std::swap(bytes[at + 1], bytes[at + 2]);
  };
  const auto le32 = [&](std::size_t at) {
    return std::uint32_t{bytes[at]} | std::uint32_t{bytes[at + 1]} << 8 | std::uint32_t{bytes[at + 2]} << 16 |
           std::uint32_t{bytes[at + 3]} << 24;
  };
  for (std::size_t at = 0; at + 16 <= d.size;) {
    const std::uint32_t length = le32(at);
    if (length < 16 || length > d.size - at) return;
    const unsigned type = bytes[at + 4] | bytes[at + 5] << 8;
    swap32(at), swap16(at + 4), swap16(at + 6), swap32(at + 8), swap32(at + 12);
    if (type == NLMSG_ERROR && length >= 36) {
      swap32(at + 16);  // the error, then the request's header
      swap32(at + 20), swap16(at + 24), swap16(at + 26), swap32(at + 28), swap32(at + 32);
    } else if (type >= NLMSG_MIN_TYPE) {
      for (std::size_t a = at + 20; a + 4 <= at + length;) {  // attributes after the nfgenmsg
        const unsigned attr_length = bytes[a] | bytes[a + 1] << 8;
        swap16(a), swap16(a + 2);
        if (attr_length < 4) break;
        a += (attr_length + 3) & ~3U;
      }
    }
    at += (length + 3) & ~3U;
  }
}

std::vector<Datagram> load(const std::string& name) {
  std::ifstream in(std::string(CTMON_CONNTRACK_FIXTURES) + "/" + name);
  REQUIRE(in);
  std::vector<Datagram> datagrams;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    Datagram d;
    d.size = line.size() / 2;
    d.words.resize((d.size + 3) / 4);
    auto* bytes = reinterpret_cast<unsigned char*>(d.words.data());
    for (std::size_t k = 0; k < d.size; ++k) bytes[k] = static_cast<unsigned char>(std::stoi(line.substr(2 * k, 2), nullptr, 16));
    to_host_order(d);
    datagrams.push_back(std::move(d));
  }
  return datagrams;
}

struct Parsed {
  ConntrackStats stats;
  std::vector<ReplyStep> steps;
  [[nodiscard]] const ReplyStep& last() const { return steps.back(); }
};

// Every datagram of the fixture, in order, as the reader feeds them (it stops at kDone/kError).
Parsed parse(const std::string& name, Request request, std::uint32_t seq = 0, std::uint32_t port = 0) {
  Parsed p;
  for (const Datagram& d : load(name)) {
    p.steps.push_back(parse_reply_datagram(d.data(), d.size, request, seq, port, p.stats));
    if (p.steps.back().outcome != ReplyStep::kMore) break;
  }
  return p;
}

std::uint64_t sum(const ConntrackStats& stats, Stat stat) { return stats.sum(stat).value(); }

TEST_CASE("recorded replies of a fresh namespace: an empty table, every statistic zero") {
  const Parsed global = parse("fresh_netns-global.hex", Request::global);
  REQUIRE(global.last().outcome == ReplyStep::kDone);
  CHECK(global.stats.entries == 0u);
  CHECK(global.stats.limit == 262144u);
  const Parsed cpus = parse("fresh_netns-per_cpu.hex", Request::per_cpu);
  REQUIRE(cpus.steps.size() == 2);  // both CPUs in one datagram, NLMSG_DONE in the next
  CHECK(cpus.steps[0].outcome == ReplyStep::kMore);
  CHECK(cpus.last().outcome == ReplyStep::kDone);
  REQUIRE(cpus.stats.cpus.size() == 2);
  CHECK(cpus.stats.cpus[0].cpu == 0);
  CHECK(cpus.stats.cpus[1].cpu == 1);
  for (std::size_t k = 0; k < kStatCount; ++k) CHECK(sum(cpus.stats, static_cast<Stat>(k)) == 0);
}

TEST_CASE("recorded replies after traffic: conntrack -C's 20 entries, conntrack -S's 14 invalid") {
  const Parsed global = parse("busy_netns-global.hex", Request::global);
  CHECK(global.stats.entries == 20u);
  CHECK(global.stats.limit == 262144u);
  const Parsed cpus = parse("busy_netns-per_cpu.hex", Request::per_cpu);
  CHECK(cpus.last().outcome == ReplyStep::kDone);
  CHECK(cpus.stats.cpus.at(0).values[static_cast<std::size_t>(Stat::invalid)] == 14u);
  CHECK(cpus.stats.cpus.at(1).values[static_cast<std::size_t>(Stat::invalid)] == 0u);
  CHECK(sum(cpus.stats, Stat::invalid) == 14);
  CHECK(sum(cpus.stats, Stat::chain_toolong) == 0);  // present: Linux 6.18 sends all ten
}

TEST_CASE("recorded replies of the host namespace parse") {
  const Parsed global = parse("host-global.hex", Request::global);
  CHECK(global.last().outcome == ReplyStep::kDone);
  CHECK(global.stats.limit.has_value());
  const Parsed cpus = parse("host-per_cpu.hex", Request::per_cpu);
  CHECK(cpus.last().outcome == ReplyStep::kDone);
  CHECK(cpus.stats.cpus.size() == 2);
}

TEST_CASE("without CAP_NET_ADMIN the kernel answers EPERM to both requests (recorded)") {
  for (const Request request : {Request::global, Request::per_cpu}) {
    const Parsed p = parse(request == Request::global ? "no_permission-global.hex" : "no_permission-per_cpu.hex", request);
    CHECK(p.last().outcome == ReplyStep::kError);
    CHECK(p.last().error == EPERM);
    CHECK(p.stats.cpus.empty());
  }
}

TEST_CASE("an old kernel's attributes that are missing stay absent, not zero") {
  const Parsed global = parse("old_kernel-global.hex", Request::global);
  CHECK(global.last().outcome == ReplyStep::kDone);
  CHECK(global.stats.entries == 1234u);
  CHECK_FALSE(global.stats.limit.has_value());
  const Parsed cpus = parse("old_kernel-per_cpu.hex", Request::per_cpu);
  CHECK(cpus.last().outcome == ReplyStep::kDone);
  CHECK(sum(cpus.stats, Stat::drop) == 44);
  CHECK(sum(cpus.stats, Stat::search_restart) == 77);
  CHECK_FALSE(cpus.stats.sum(Stat::clash_resolve).has_value());
  CHECK_FALSE(cpus.stats.sum(Stat::chain_toolong).has_value());

  const Parsed none = parse("no_global-global.hex", Request::global);
  CHECK(none.last().outcome == ReplyStep::kDone);
  CHECK_FALSE(none.stats.entries.has_value());
  CHECK_FALSE(none.stats.limit.has_value());
}

TEST_CASE("a missing ctnetlink is the kernel's errno") {
  CHECK(parse("no_ctnetlink-global.hex", Request::global).last().error == EINVAL);
  CHECK(parse("not_supported-per_cpu.hex", Request::per_cpu).last().error == EOPNOTSUPP);
}

TEST_CASE("a dump over several datagrams sums every CPU in 64 bits") {
  const Parsed p = parse("multi_part-per_cpu.hex", Request::per_cpu);
  REQUIRE(p.steps.size() == 3);
  CHECK(p.steps[0].outcome == ReplyStep::kMore);
  CHECK(p.steps[1].outcome == ReplyStep::kMore);
  CHECK(p.steps[2].outcome == ReplyStep::kDone);
  REQUIRE(p.stats.cpus.size() == 4);
  CHECK(p.stats.cpus[3].cpu == 7);
  CHECK(sum(p.stats, Stat::drop) == 4ULL * 0xFFFFFFFFULL);
  CHECK(sum(p.stats, Stat::early_drop) == 4 * 70000);
  CHECK(sum(p.stats, Stat::chain_toolong) == 20);
}

TEST_CASE("bytes no kernel sends are a protocol error") {
  CHECK(parse("truncated-per_cpu.hex", Request::per_cpu).last().error == EPROTO);
  CHECK(parse("cut_attribute-global.hex", Request::global).last().error == EPROTO);
  CHECK(parse("wide_attribute-global.hex", Request::global).last().error == EPROTO);
  CHECK(parse("garbage-per_cpu.hex", Request::per_cpu).last().error == EPROTO);
  CHECK(parse("wrong_type-per_cpu.hex", Request::per_cpu).last().error == EPROTO);
  ConntrackStats stats;
  CHECK(parse_reply_datagram("", 0, Request::global, 0, 0, stats).error == EPROTO);
}

TEST_CASE("a reply to another request (a stale sequence number or port) is told apart") {
  const Datagram d = load("busy_netns-per_cpu.hex").front();
  ConntrackStats stats;
  // Recorded with sequence number 1 by port 0x3c41 (in the message headers).
  CHECK(parse_reply_datagram(d.data(), d.size, Request::per_cpu, 1, 0x3c41, stats).outcome == ReplyStep::kMore);
  CHECK(parse_reply_datagram(d.data(), d.size, Request::per_cpu, 2, 0x3c41, stats).error == ESRCH);
  CHECK(parse_reply_datagram(d.data(), d.size, Request::per_cpu, 1, 7, stats).error == ESRCH);
}

TEST_CASE("every cut of a recorded datagram is an error or a complete message boundary, never a crash") {
  for (const char* name : {"busy_netns-per_cpu.hex", "busy_netns-global.hex", "no_permission-global.hex"}) {
    const Request request = std::string(name).find("per_cpu") != std::string::npos ? Request::per_cpu : Request::global;
    const Datagram whole = load(name).front();
    for (std::size_t size = 0; size < whole.size; ++size) {
      ConntrackStats stats;
      const ReplyStep step = parse_reply_datagram(whole.data(), size, request, 0, 0, stats);
      INFO(name << " cut to " << size << " bytes");
      // The per-CPU datagram holds two messages: cut after the first it is a shorter dump.
      if (step.outcome != ReplyStep::kError) {
        CHECK(request == Request::per_cpu);
        CHECK(size == 100);
        CHECK(stats.cpus.size() == 1);
      }
    }
  }
}

TEST_CASE("the requests are what conntrack -C and -S send") {
  alignas(nlmsghdr) char bytes[kRequestBytes];
  const nlmsghdr* global = build_request(bytes, Request::global, 9);
  CHECK(global->nlmsg_len == 20);
  CHECK(global->nlmsg_type == ((1 << 8) | 5));
  CHECK(global->nlmsg_flags == NLM_F_REQUEST);
  CHECK(global->nlmsg_seq == 9);
  const nlmsghdr* dump = build_request(bytes, Request::per_cpu, 10);
  CHECK(dump->nlmsg_type == ((1 << 8) | 4));
  CHECK(dump->nlmsg_flags == (NLM_F_REQUEST | NLM_F_DUMP));
  CHECK(to_string(Stat::insert_failed) == "insert_failed");
  CHECK(to_string(Stat::chain_toolong) == "chain_toolong");
}

TEST_CASE("the reader against the running kernel agrees with nf_conntrack_max") {
  if (geteuid() != 0) {
    WARN("not checked: reading the kernel's statistics needs CAP_NET_ADMIN (run as root)");
    return;
  }
  std::ifstream max_file("/proc/sys/net/netfilter/nf_conntrack_max");
  std::uint64_t max = 0;
  if (!(max_file >> max)) {
    WARN("not checked: nf_conntrack is not loaded");
    return;
  }
  ConntrackReader reader;
  ConntrackStats stats;
  const int error = reader.read(stats, 100'000'000);
  if (error == EPFNOSUPPORT || error == EPROTONOSUPPORT || error == EAFNOSUPPORT) {
    WARN("not checked: no NETLINK_NETFILTER socket here (qemu-user has none)");
    return;
  }
  REQUIRE(error == 0);
  CHECK(stats.limit == max);
  CHECK(stats.entries.has_value());
  CHECK(stats.cpus.size() == static_cast<std::size_t>(sysconf(_SC_NPROCESSORS_CONF)));
  REQUIRE(reader.read(stats, 100'000'000) == 0);  // the socket is reused
  CHECK(stats.sum(Stat::invalid).has_value());
}

}  // namespace
}  // namespace ctmon::conntrack

namespace ctmon::conntrack {
namespace {

ConntrackStats reading(std::initializer_list<std::pair<std::uint16_t, std::uint32_t>> drops_by_cpu) {
  ConntrackStats stats;
  for (const auto& [cpu, drops] : drops_by_cpu) {
    CpuStats& c = stats.cpus.emplace_back();
    c.cpu = cpu;
    c.values[static_cast<std::size_t>(Stat::drop)] = drops;
  }
  return stats;
}

TEST_CASE("cumulative statistics add each CPU's change, across a u32 wrap, from zero after a restart") {
  CumulativeStats totals;
  CHECK_FALSE(totals.total(Stat::drop).has_value());
  totals.add(reading({{0, 10}, {3, 5}}));
  CHECK(totals.total(Stat::drop) == 15u);  // the first reading counts what the kernel counted
  CHECK_FALSE(totals.total(Stat::invalid).has_value());  // never reported: absent
  totals.add(reading({{0, 12}, {3, 5}}));
  CHECK(totals.total(Stat::drop) == 17u);
  totals.add(reading({{0, 0xFFFFFFF0U}, {3, 5}}));
  totals.add(reading({{0, 0x10U}, {3, 5}}));  // CPU 0 wrapped: 0x20 more
  CHECK(totals.total(Stat::drop) == 17ULL + (0xFFFFFFF0ULL - 12) + 0x20);
  const std::uint64_t before = *totals.total(Stat::drop);
  totals.add(reading({{0, 0x10U}, {3, 2}}));  // nf_conntrack reloaded: CPU 3 counts from zero
  CHECK(*totals.total(Stat::drop) == before + 2);
  totals.add(reading({{0, 0x10U}, {3, 2}, {1, 4}}));  // a CPU that comes online
  CHECK(*totals.total(Stat::drop) == before + 6);
}

}  // namespace
}  // namespace ctmon::conntrack
