// What the store holds, with the bytes totals `ctmon series` does not print: one JSON object per
// sample, {"ts": <Unix s>, "counters": {<name>: [packets, bytes], ...}} (present counters whose
// name starts with PREFIX), for integration tests that check mean counters
// (docs/measurements.md) straight from the database.
//
//   store_samples DB [PREFIX]
#include <cstdio>
#include <exception>
#include <string>

#include <nlohmann/json.hpp>

#include "monitor/store/database.h"
#include "monitor/store/sample_reader.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s DB [PREFIX]\n", argv[0]);
    return 2;
  }
  const std::string prefix = argc == 3 ? argv[2] : "";
  try {
    const auto db = ctmon::store::Database::open(argv[1], ctmon::store::reader_options());
    const ctmon::store::Series series = ctmon::store::SampleReader(db).read();
    if (!series.bytes_stored) std::fprintf(stderr, "store_samples: some blocks were stored without bytes\n");
    for (const ctmon::Sample& sample : series.samples) {
      nlohmann::json counters = nlohmann::json::object();
      for (ctmon::CounterId id = 0; id < sample.counters.size(); ++id) {
        const ctmon::CounterTotals& c = sample.counters[id];
        const std::string& name = series.catalog.name(id);
        if (c.present && name.starts_with(prefix)) counters[name] = {c.packets, c.bytes};
      }
      const nlohmann::json line = {{"ts", static_cast<double>(sample.wall_ns) / 1e9}, {"counters", counters}};
      std::printf("%s\n", line.dump().c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "store_samples: %s\n", e.what());
    return 1;
  }
  return 0;
}
