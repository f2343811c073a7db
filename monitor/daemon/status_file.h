#pragma once
// The daemon's live state, for `ctmon status`: a small JSON file rewritten after every sample.
// It lives in /run (RAM), never on flash: the database only hears from the daemon every commit
// interval, which is far too stale to tell a live daemon from a dead one.
//
// Format (one JSON object): pid, started (RFC 3339), last_sample_ts (unix s, float), interval_s,
// commit_interval_s, table, table_state ("ok", "missing", "no counters", "error: ..."), counters,
// samples, missed_ticks, samples_in_ram, store_state ("ok", "disk full", ...), episodes_opened,
// open_episode (bool), db, and when forwarding is on, influx {state, detail, queued,
// last_success_ts, retry_in_ms, sent_lines, rejected_lines}.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace ctmon {

inline constexpr const char* kDefaultStatusFile = "/run/ctmon/ctmon.status";

/// Replaces `path` with `status` atomically (write to a temporary file, rename), creating the
/// directory when missing. Returns an error text, or "" on success.
[[nodiscard]] std::string write_status_file(const std::string& path, const nlohmann::json& status);

/// Reads the file; nullopt when it is missing or not JSON (a daemon that never ran, or died
/// while the file was replaced, which rename makes impossible).
[[nodiscard]] std::optional<nlohmann::json> read_status_file(const std::string& path);

/// True when process `pid` exists (kill(pid, 0)).
[[nodiscard]] bool process_alive(std::int64_t pid);

}  // namespace ctmon
