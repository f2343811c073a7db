// ctmon sample: one reading of the counters, as a table or JSON.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include <fmt/chrono.h>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "monitor/cli/commands.h"
#include "monitor/cli/table_option.h"
#include "monitor/nft/counter_reader.h"
#include "monitor/user_error.h"

namespace ctmon::cli {
namespace {

struct SampleOptions {
  std::string table;
  std::vector<std::string> counters;
  bool json = false;
};

void print_table(const std::vector<nft::CounterReading>& readings) {
  std::size_t name_width = std::string_view("counter").size();
  for (const auto& r : readings) name_width = std::max(name_width, r.name.size());
  fmt::print("{:<{}}  {:>14}  {:>16}\n", "counter", name_width, "packets", "bytes");
  for (const auto& r : readings)
    fmt::print("{:<{}}  {:>14}  {:>16}\n", r.name, name_width, r.packets, r.bytes);
}

void print_json(const nft::TableRef& table, const std::vector<nft::CounterReading>& readings) {
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now());
  nlohmann::json counters = nlohmann::json::array();
  for (const auto& r : readings)
    counters.push_back({{"name", r.name}, {"packets", r.packets}, {"bytes", r.bytes}});
  const nlohmann::json out = {
      {"family", table.family()},
      {"table", table.name()},
      {"time", fmt::format("{:%FT%T}Z", now)},
      {"counters", std::move(counters)},
  };
  fmt::print("{}\n", out.dump());
}

void run_sample(const SampleOptions& options) {
  const nft::TableRef table = nft::parse_table_ref(options.table);
  nft::CounterReader reader(table);
  std::vector<nft::CounterReading> readings;
  reader.read(readings);
  if (readings.empty())
    throw UserError(fmt::format(
        "table {} has no named counters; 'ctmon rules check --table {}:{}' shows what is missing",
        table.display(), table.family(), table.name()));

  if (!options.counters.empty()) {
    std::vector<nft::CounterReading> chosen;
    for (const auto& wanted : options.counters) {
      const auto found = std::find_if(readings.begin(), readings.end(),
                                      [&](const auto& r) { return r.name == wanted; });
      if (found == readings.end()) {
        std::string known;
        for (const auto& r : readings) known += (known.empty() ? "" : ", ") + r.name;
        throw UserError(fmt::format("table {} has no counter named '{}'; its counters are: {}",
                                    table.display(), wanted, known));
      }
      chosen.push_back(*found);
    }
    readings = std::move(chosen);
  }
  if (options.json)
    print_json(table, readings);
  else
    print_table(readings);
}

}  // namespace

void add_sample_command(CLI::App& app) {
  auto options = std::make_shared<SampleOptions>();
  CLI::App* command = app.add_subcommand(
      "sample",
      "Read the counters once, straight from the kernel, and print them.\n"
      "Needs CAP_NET_ADMIN (root). Example: ctmon sample --json");
  add_table_option(command, options->table);
  command->add_option("--counter", options->counters,
                      "print only this counter (repeatable); an unknown name is an error");
  command->add_flag("--json", options->json,
                    "print one JSON object: family, table, time (UTC) and counters "
                    "[{name, packets, bytes}]");
  command->callback([options] { run_sample(*options); });
}

}  // namespace ctmon::cli
