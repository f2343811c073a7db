#pragma once
// The samples a daemon holds in RAM, not yet committed to its database: the answer to the
// "samples" request on the status socket (status_socket.h), so that `ctmon show` and
// `ctmon series` see the minutes before the next commit. One struct, one codec, both sides.
//
// Wire form: {"db": path, "continues_stored": bool, "counters": [names],
//             "samples": [[wall_ns, mono_ns, [packets|null...], [bytes|null...]], ...]}
// null marks a counter absent from that sample.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/sample.h"

namespace ctmon::status {

struct LiveSamples {
  std::string db;                      ///< the database these samples will be committed to
  /// True when the daemon has committed samples of this run already, so these continue the
  /// stored ones; false when they start a new run (a rate must not span from the stored ones).
  bool continues_stored = false;
  std::vector<std::string> counters;   ///< names; samples' counters are indexed by them
  std::vector<Sample> samples;         ///< oldest first
};

[[nodiscard]] nlohmann::json to_json(const LiveSamples& live);

/// Throws StatusFormatError (daemon_status.h) when `json` is not a LiveSamples.
[[nodiscard]] LiveSamples live_samples_from_json(const nlohmann::json& json);

}  // namespace ctmon::status
