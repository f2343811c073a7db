// Carries a database and a saved detector state from one CPU to another (tests/cross/run.sh runs
// `write` on one architecture and `check` on the other, both ways between little-endian x86-64
// and big-endian s390x). The two formats involved are binary: the sample blocks
// (monitor/store/block_codec) and the detectors' state (detectors/state_codec); SQLite's own file
// format is portable by design. Byte order: schema/README.md, "Byte order".
//
//   cross_endian_fixture write DIR   writes DIR/ctmon.db (two days of a synthetic router, one day
//                                    of it aged into minute rollups, the detectors' state saved
//                                    after the first day) and DIR/expected.txt (what the writer
//                                    decoded and what its detectors said afterwards)
//   cross_endian_fixture check DIR   reads both on this machine and compares; exit status 0 when
//                                    everything matches, 1 with the first difference otherwise
//
// What `check` compares: every decoded sample (times, every counter's totals and presence, the
// catalog, raw/rollup boundary, run starts) exactly; the saved state's bytes, and the state of a
// freshly restored Analyzer saved again, exactly (pure decoding and re-encoding, no arithmetic);
// the restored Analyzer's output over the second day: episode transitions and detector bits
// exactly, scores to 1e-9 (another CPU may fuse a multiply-add or vectorise a sum differently,
// which changes the last bits of a double, never a decision of this data).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "detectors/analyzer.h"
#include "monitor/store/database.h"
#include "monitor/store/sample_reader.h"
#include "monitor/store/sample_writer.h"
#include "monitor/store/state_store.h"
#include "tests/detectors/scenario.h"

namespace {

using namespace ctmon;

constexpr std::int64_t kNsPerS = 1'000'000'000;
constexpr double kIntervalS = 5.0;
constexpr std::int64_t kLocalOffsetS = 0;
constexpr double kScoreTolerance = 1e-9;

testing::ScenarioConfig scenario_config() {
  testing::ScenarioConfig c;
  c.seed = 7;
  c.interval_s = kIntervalS;
  c.days = 2;
  return c;
}

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char ch : bytes) {
    const auto b = static_cast<unsigned char>(ch);
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

// The decoded series as text, one line per sample: equal text means equal decoding.
void dump_series(const store::Series& s, std::ostream& out) {
  out << "catalog";
  for (const auto& name : s.catalog.names()) out << ' ' << name;
  out << "\nfirst_raw " << s.first_raw << "\nbytes_stored " << s.bytes_stored << "\nrun_starts";
  for (const auto r : s.run_starts) out << ' ' << r;
  out << "\nsamples " << s.samples.size() << '\n';
  for (const Sample& x : s.samples) {
    out << x.mono_ns << ' ' << x.wall_ns;
    for (const CounterTotals& c : x.counters) {
      if (c.present)
        out << ' ' << c.packets << ':' << c.bytes;
      else
        out << " -";
    }
    out << '\n';
  }
}

// One line per sample of the Analyzer's output over the raw samples of the second day.
struct Output {
  bool scored = false;
  unsigned detectors = 0;
  unsigned change = 0;
  double score = 0;
  std::string episode;  // "-" or id,kind,start,end,open when the episode changed
};

std::string describe(const Episode& e) {
  std::ostringstream o;
  o << e.id << ',' << to_string(e.kind) << ',' << e.start_wall_ns << ',' << e.end_wall_ns << ','
    << e.open;
  return o.str();
}

std::vector<Output> run_second_day(Analyzer& analyzer, const store::Series& s, std::int64_t from_wall_ns) {
  std::vector<Output> out;
  for (std::size_t k = s.first_raw; k < s.samples.size(); ++k) {
    const Sample& x = s.samples[k];
    if (x.wall_ns < from_wall_ns) continue;
    const StepResult& r = analyzer.observe(x, s.catalog, kLocalOffsetS);
    Output o;
    o.scored = r.scored;
    o.detectors = r.detectors;
    o.change = static_cast<unsigned>(r.change);
    o.score = r.score;
    o.episode = r.episode != nullptr ? describe(*r.episode) : "-";
    out.push_back(std::move(o));
  }
  return out;
}

void dump_outputs(const std::vector<Output>& outputs, std::ostream& out) {
  out << "outputs " << outputs.size() << '\n';
  char score[40];
  for (const Output& o : outputs) {
    std::snprintf(score, sizeof score, "%.17g", o.score);
    out << o.scored << ' ' << o.detectors << ' ' << o.change << ' ' << score << ' ' << o.episode << '\n';
  }
}

std::int64_t second_day_wall_ns() {
  return scenario_config().start_wall_s * kNsPerS + 86400 * kNsPerS;
}

store::SampleWriterOptions writer_options() {
  store::SampleWriterOptions o;
  o.retention_raw_s = 86400;  // the first day survives only as minute rollups
  return o;
}

// Everything `check` compares, as text: the decoded series, the saved state, the restored
// state saved again, and the restored Analyzer's output over the second day.
std::string expectations(const std::filesystem::path& db_path, const AnalyzerConfig& config) {
  auto db = store::Database::open(db_path, store::reader_options());
  const store::Series series = store::SampleReader(db).read();
  const auto saved = store::StateStore(db).load(Analyzer::kStateVersion);
  if (!saved) throw std::runtime_error(db_path.string() + ": no detector state of version " +
                                       std::to_string(Analyzer::kStateVersion));
  const std::string_view state(reinterpret_cast<const char*>(saved->data.data()), saved->data.size());
  Analyzer restored(config);
  const RestoreStatus status = restored.restore_state(state);
  if (!status.ok) throw std::runtime_error("restoring the saved detector state failed: " + status.error);
  std::ostringstream out;
  out << "state_saved_wall_ns " << saved->saved_wall_ns << "\nstate " << hex(state)
      << "\nrestored_state " << hex(restored.save_state()) << '\n';
  dump_series(series, out);
  dump_outputs(run_second_day(restored, series, second_day_wall_ns()), out);
  return out.str();
}

void write(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const auto db_path = dir / "ctmon.db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db_path.string() + suffix);
  const AnalyzerConfig config = AnalyzerConfig::network(kIntervalS);
  {
    auto db = store::Database::open(db_path);
    store::SampleWriter writer(db, writer_options());
    testing::ScenarioGenerator scenario(scenario_config());
    Analyzer analyzer(config);
    bool saved = false;
    Sample sample;
    while (scenario.next(sample)) {
      if (!saved && sample.wall_ns >= second_day_wall_ns()) {
        store::StateStore(db).save({Analyzer::kStateVersion, sample.wall_ns, [&] {
                                      const std::string s = analyzer.save_state();
                                      return std::vector<std::uint8_t>(s.begin(), s.end());
                                    }()});
        saved = true;
      }
      if (!saved) analyzer.observe(sample, scenario.catalog(), kLocalOffsetS);
      writer.append(sample, scenario.catalog());
      if (writer.commit_due(sample.mono_ns)) writer.commit(sample.mono_ns);
    }
    const auto result = writer.flush(sample.mono_ns);
    if (result.condition != store::CommitCondition::kOk)
      throw std::runtime_error("writing the samples failed: " + result.message);
  }  // closing the last connection checkpoints the WAL into the file and removes it
  std::ofstream(dir / "expected.txt") << expectations(db_path, config);
}

// First line where two texts differ, for the failure message.
std::string first_difference(const std::string& expected, const std::string& actual) {
  std::istringstream e(expected), a(actual);
  std::string le, la;
  for (int line = 1;; ++line) {
    const bool more_e = static_cast<bool>(std::getline(e, le));
    const bool more_a = static_cast<bool>(std::getline(a, la));
    if (!more_e && !more_a) return {};
    if (le != la) {
      const auto cut = [](const std::string& s) { return s.size() > 200 ? s.substr(0, 200) + "..." : s; };
      return "line " + std::to_string(line) + ": expected '" + cut(le) + "', got '" + cut(la) + "'";
    }
  }
}

// Compares two dumps: output lines by fields (score within kScoreTolerance), the rest exactly.
std::string compare(const std::string& expected, const std::string& actual) {
  const auto split = [](const std::string& text) {
    const auto at = text.find("\noutputs ");
    return std::pair{text.substr(0, at), at == std::string::npos ? std::string() : text.substr(at + 1)};
  };
  const auto [exp_head, exp_out] = split(expected);
  const auto [act_head, act_out] = split(actual);
  if (auto d = first_difference(exp_head, act_head); !d.empty()) return d;
  std::istringstream e(exp_out), a(act_out);
  std::string le, la;
  std::getline(e, le);
  std::getline(a, la);
  if (le != la) return "output count: expected '" + le + "', got '" + la + "'";
  for (int k = 0; std::getline(e, le) && std::getline(a, la); ++k) {
    std::istringstream fe(le), fa(la);
    std::string scored_e, det_e, change_e, episode_e, scored_a, det_a, change_a, episode_a;
    double score_e = 0, score_a = 0;
    fe >> scored_e >> det_e >> change_e >> score_e >> episode_e;
    fa >> scored_a >> det_a >> change_a >> score_a >> episode_a;
    if (scored_e != scored_a || det_e != det_a || change_e != change_a || episode_e != episode_a ||
        !(std::fabs(score_e - score_a) <= kScoreTolerance))
      return "detector output of sample " + std::to_string(k) + " of the second day: expected '" + le +
             "', got '" + la + "'";
  }
  return {};
}

int check(const std::filesystem::path& dir) {
  std::ifstream in(dir / "expected.txt");
  if (!in) throw std::runtime_error((dir / "expected.txt").string() + ": cannot read it; run `write` first");
  std::stringstream expected;
  expected << in.rdbuf();
  const std::string actual = expectations(dir / "ctmon.db", AnalyzerConfig::network(kIntervalS));
  if (const auto d = compare(expected.str(), actual); !d.empty()) {
    std::cerr << "cross_endian_fixture: " << dir.string() << " reads differently here: " << d << '\n';
    return 1;
  }
  std::cout << "cross_endian_fixture: " << dir.string() << " reads the same here ("
            << std::count(actual.begin(), actual.end(), '\n') << " lines compared)\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string usage = "usage: cross_endian_fixture write|check DIR";
  if (argc != 3) {
    std::cerr << usage << '\n';
    return 2;
  }
  try {
    const std::string mode = argv[1];
    if (mode == "write") {
      write(argv[2]);
      return 0;
    }
    if (mode == "check") return check(argv[2]);
    std::cerr << usage << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "cross_endian_fixture: " << e.what() << '\n';
    return 1;
  }
}
