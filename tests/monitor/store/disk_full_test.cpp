// A real full disk: the database lives on a small tmpfs that the test mounts (root only; the
// test exits with 77, "skipped", otherwise) and fills with a ballast file. ctest label
// `integration;store_fs`. The mount is removed whatever happens.

#include <unistd.h>

#include <catch2/catch.hpp>

#include <fstream>

#include "monitor/store/database.h"
#include "monitor/store/sample_reader.h"
#include "monitor/store/sample_writer.h"
#include "synthetic_mix.h"
#include "temp_dir.h"

using namespace ctmon;
using namespace ctmon::store;
using ctmon::store::testing::SyntheticMix;
using ctmon::store::testing::SmallTmpfs;

namespace {

constexpr std::int64_t kS = 1'000'000'000;

// Writes zeros until the file system refuses.
void fill(const std::filesystem::path& p) {
  std::ofstream out(p, std::ios::binary);
  const std::string chunk(4096, '\0');
  while (out.write(chunk.data(), static_cast<std::streamsize>(chunk.size())) && out.flush()) {
  }
}

}  // namespace

TEST_CASE("a full disk keeps samples in RAM, is reported once, and writing resumes once space is freed") {
  if (::geteuid() != 0) {
    WARN("not root: cannot mount a tmpfs; skipped");
    std::exit(77);
  }
  SmallTmpfs fs("2m");
  REQUIRE(fs.mounted());
  Database db = Database::open(fs.path() / "ctmon.db");
  SampleWriterOptions o;
  o.commit_interval_s = 10;
  o.retention_raw_s = 3600;
  o.retry_interval_s = 5;
  o.bytes = BytesPolicy::kAlways;
  SampleWriter w(db, o);
  SyntheticMix mix(kS, 1'764'201'600 * kS);
  std::vector<Sample> fed;
  auto step = [&](std::vector<CommitResult>& results) {
    fed.push_back(mix.next());
    w.append(fed.back(), mix.catalog());
    if (w.commit_due(fed.back().mono_ns)) results.push_back(w.commit(fed.back().mono_ns));
  };
  std::vector<CommitResult> results;
  for (int k = 0; k < 30; ++k) step(results);
  for (const auto& r : results) REQUIRE(r.condition == CommitCondition::kOk);

  fill(fs.path() / "ballast");
  results.clear();
  for (int k = 0; k < 600; ++k) step(results);
  std::size_t full = 0, reported = 0;
  for (const auto& r : results) {
    full += r.condition == CommitCondition::kDiskFull;
    reported += r.changed;
  }
  CHECK(full >= 2);
  CHECK(reported == 1);
  CHECK(w.stats().samples_in_ram >= 500);

  std::filesystem::remove(fs.path() / "ballast");
  results.clear();
  for (int k = 0; k < 10; ++k) step(results);
  REQUIRE(!results.empty());
  CHECK(results.back().condition == CommitCondition::kOk);
  CHECK(w.flush(fed.back().mono_ns).condition == CommitCondition::kOk);
  const Series got = SampleReader(db).read();
  REQUIRE(got.samples.size() == fed.size());
  for (std::size_t k = 0; k < fed.size(); ++k) CHECK(got.samples[k].mono_ns == fed[k].mono_ns / 1000 * 1000);
}
