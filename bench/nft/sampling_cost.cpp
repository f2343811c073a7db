// Prints the CPU cost of one reading of the counters three ways, in the same namespace:
//   ctmon's CounterReader (socket kept open), a bare libnftnl dump loop (the floor), and the
//   seed setup's script (`nft list counters | awk`, forked each time).
// Run it through bench/nft/run.sh, which makes a namespace with the 18 counters loaded.
//
// usage: bench_sampling_cost SEED_SCRIPT [READER_SAMPLES] [SCRIPT_RUNS]
//        bench_sampling_cost --reader-only [READER_SAMPLES [INTERVAL_S]]
//   --reader-only prints one number, ctmon's CPU per reading in microseconds, for
//   bench/daemon/run.sh to set the whole daemon against in the same run. With INTERVAL_S the
//   readings are that far apart (sleeping between them, caches cooling as in the daemon)
//   instead of back to back.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <libmnl/libmnl.h>
#include <libnftnl/object.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "monitor/nft/counter_reader.h"

namespace {

double cpu_seconds(int who) {
  rusage usage{};
  getrusage(who, &usage);
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double wall_seconds() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec + now.tv_nsec / 1e9;
}

struct Figure {
  double cpu_us;
  double wall_us;
};

template <class Fn>
Figure measure(int runs, int who, Fn&& once) {
  const double cpu0 = cpu_seconds(who), wall0 = wall_seconds();
  for (int i = 0; i < runs; ++i) once();
  return {(cpu_seconds(who) - cpu0) / runs * 1e6, (wall_seconds() - wall0) / runs * 1e6};
}

// The floor: the dump loop libnftnl's examples show, with nothing of ctmon's around it.
struct BareDump {
  mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
  std::uint32_t portid = 0, seq = 1;
  std::vector<char> buf = std::vector<char>(32768);
  std::uint64_t sink = 0;
  std::size_t counters = 0;

  BareDump() {
    if (nl == nullptr || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) std::abort();
    portid = mnl_socket_get_portid(nl);
  }
  ~BareDump() { mnl_socket_close(nl); }

  static int on_object(const nlmsghdr* nlh, void* data) {
    auto* self = static_cast<BareDump*>(data);
    nftnl_obj* o = nftnl_obj_alloc();
    if (nftnl_obj_nlmsg_parse(nlh, o) == 0) {
      self->sink += nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS) + nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES) +
                    nftnl_obj_get_str(o, NFTNL_OBJ_NAME)[0];
      ++self->counters;
    }
    nftnl_obj_free(o);
    return MNL_CB_OK;
  }

  void once() {
    char req[4096];
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETOBJ, NFPROTO_IPV4, NLM_F_DUMP, ++seq);
    nftnl_obj* o = nftnl_obj_alloc();
    nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, "conntrack_stats");
    nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
    nftnl_obj_nlmsg_build_payload(nlh, o);
    nftnl_obj_free(o);
    mnl_socket_sendto(nl, nlh, nlh->nlmsg_len);
    int ret = static_cast<int>(mnl_socket_recvfrom(nl, buf.data(), buf.size()));
    while (ret > 0) {
      ret = mnl_cb_run(buf.data(), ret, seq, portid, on_object, this);
      if (ret <= 0) break;
      ret = static_cast<int>(mnl_socket_recvfrom(nl, buf.data(), buf.size()));
    }
  }
};

void run_script(const char* script) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (freopen("/dev/null", "w", stdout) == nullptr) _exit(127);
    execl("/bin/sh", "sh", script, static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fmt::print(stderr, "the seed script failed (status {})\n", status);
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: {} SEED_SCRIPT [READER_SAMPLES] [SCRIPT_RUNS]\n", argv[0]);
    return 2;
  }
  const int samples = argc > 2 ? std::atoi(argv[2]) : 10000;
  if (std::string(argv[1]) == "--reader-only") {
    ctmon::nft::CounterReader reader(ctmon::nft::TableRef{});
    std::vector<ctmon::nft::CounterReading> readings;
    reader.read(readings);  // warm up, and fail early if the table is missing
    const double interval_s = argc > 3 ? std::atof(argv[3]) : 0;
    const auto interval_ns = static_cast<std::int64_t>(interval_s * 1e9);
    timespec next{};
    clock_gettime(CLOCK_MONOTONIC, &next);
    auto paced_read = [&] {
      if (interval_ns > 0) {  // absolute deadlines, like the daemon's schedule
        const std::int64_t ns = next.tv_nsec + interval_ns;
        next.tv_sec += static_cast<time_t>(ns / 1'000'000'000);
        next.tv_nsec = static_cast<long>(ns % 1'000'000'000);
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
      }
      reader.read(readings);
    };
    fmt::print("{:.2f}\n", measure(samples, RUSAGE_SELF, paced_read).cpu_us);
    return 0;
  }
  const int script_runs = argc > 3 ? std::atoi(argv[3]) : 200;

  ctmon::nft::CounterReader reader(ctmon::nft::TableRef{});
  std::vector<ctmon::nft::CounterReading> readings;
  reader.read(readings);  // warm up, and fail early if the table is missing
  const Figure ours = measure(samples, RUSAGE_SELF, [&] { reader.read(readings); });

  BareDump bare;
  bare.once();
  const std::size_t bare_counters = bare.counters;
  const Figure floor = measure(samples, RUSAGE_SELF, [&] { bare.once(); });

  const Figure seed = measure(script_runs, RUSAGE_CHILDREN, [&] { run_script(argv[1]); });

  fmt::print("counters per reading:        {} (ctmon), {} (bare loop)\n", readings.size(),
             bare_counters);
  fmt::print("{:<34} {:>12} {:>12}\n", "CPU per reading", "cpu_us", "wall_us");
  fmt::print("{:<34} {:>12.1f} {:>12.1f}\n", fmt::format("ctmon CounterReader (x{})", samples),
             ours.cpu_us, ours.wall_us);
  fmt::print("{:<34} {:>12.1f} {:>12.1f}\n", fmt::format("bare libnftnl dump loop (x{})", samples),
             floor.cpu_us, floor.wall_us);
  fmt::print("{:<34} {:>12.1f} {:>12.1f}\n", fmt::format("seed script, forked (x{})", script_runs),
             seed.cpu_us, seed.wall_us);
  fmt::print("seed / ctmon CPU:            {:.0f}x  (target >= 150x)\n", seed.cpu_us / ours.cpu_us);
  fmt::print("ctmon / bare loop CPU:       {:.2f}x (target <= 2x)\n", ours.cpu_us / floor.cpu_us);
  return 0;
}
