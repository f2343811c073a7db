#include "monitor/status/live_samples.h"

#include "monitor/status/daemon_status.h"

namespace ctmon::status {
namespace {

[[noreturn]] void refuse(const std::string& what) {
  throw StatusFormatError("the daemon's samples are malformed: " + what);
}

}  // namespace

nlohmann::json to_json(const LiveSamples& live) {
  nlohmann::json samples = nlohmann::json::array();
  for (const Sample& s : live.samples) {
    nlohmann::json packets = nlohmann::json::array(), bytes = nlohmann::json::array();
    for (const CounterTotals& c : s.counters) {
      packets.push_back(c.present ? nlohmann::json(c.packets) : nlohmann::json(nullptr));
      bytes.push_back(c.present ? nlohmann::json(c.bytes) : nlohmann::json(nullptr));
    }
    samples.push_back({s.wall_ns, s.mono_ns, std::move(packets), std::move(bytes)});
  }
  return {{"db", live.db}, {"continues_stored", live.continues_stored}, {"counters", live.counters},
          {"samples", std::move(samples)}};
}

LiveSamples live_samples_from_json(const nlohmann::json& j) {
  LiveSamples live;
  if (!j.is_object()) refuse("not an object");
  try {
    live.db = j.at("db").get<std::string>();
    live.continues_stored = j.at("continues_stored").get<bool>();
    live.counters = j.at("counters").get<std::vector<std::string>>();
    for (const nlohmann::json& row : j.at("samples")) {
      if (!row.is_array() || row.size() != 4) refuse("a sample is not [wall_ns, mono_ns, packets, bytes]");
      Sample s;
      s.wall_ns = row[0].get<std::int64_t>();
      s.mono_ns = row[1].get<std::int64_t>();
      const nlohmann::json& packets = row[2];
      const nlohmann::json& bytes = row[3];
      if (!packets.is_array() || !bytes.is_array() || packets.size() != bytes.size() ||
          packets.size() > live.counters.size())
        refuse("a sample has more counters than names");
      s.counters.resize(packets.size());
      for (std::size_t c = 0; c < packets.size(); ++c) {
        if (packets[c].is_null()) continue;
        s.counters[c] = {packets[c].get<std::uint64_t>(), bytes[c].get<std::uint64_t>(), true};
      }
      live.samples.push_back(std::move(s));
    }
  } catch (const nlohmann::json::exception& e) {
    refuse(e.what());
  }
  return live;
}

}  // namespace ctmon::status
