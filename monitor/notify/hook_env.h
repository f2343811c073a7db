#pragma once
// What a notification hook is told about an episode: the environment of `[notify] exec`. Pure
// (no I/O), so the exact variables are unit-tested.
//
// The variables, all strings (docs in README "Get notified"):
//   CTMON_STATE    open | close
//   CTMON_EVENT    the episode as one line of the events JSON (the same line as on stdin and in
//                  `ctmon events --json`)
//   CTMON_ID       the episode's id
//   CTMON_KIND     wan_drop, invalid_burst, scan, udp_storm, conntrack_full, unknown
//   CTMON_WHERE    always empty for now: ctmon does not yet say where (which host or interface)
//                  an episode happened; the variable is there so scripts need not change later
//   CTMON_SCORE    the peak score so far, 0 to 1, three decimals
//   CTMON_START    RFC 3339 UTC
//   CTMON_END      RFC 3339 UTC; empty while the episode is open
//   CTMON_SUMMARY  one sentence stating the evidence
//   CTMON_HOST     this router's name (`host`, else the hostname)
//   PATH           kHookPath: the daemon's own PATH is not passed on, nor anything else of its
//                  environment (it may hold CTMON_INFLUX_TOKEN)

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace ctmon::notify {

/// Whether a notification is about an episode that opened or one that closed.
enum class EpisodeState { kOpen, kClose };

/// "open" or "close".
[[nodiscard]] std::string_view to_string(EpisodeState state);

/// The search path hooks get: enough for sh, curl, sendmail and logger on Debian and OpenWrt.
inline constexpr std::string_view kHookPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The environment above, as "NAME=value" strings, for `event` (an events-contract object:
/// episode_to_json()). A value never holds a NUL byte (removed: execve could not pass it).
/// Throws nlohmann::json::exception when `event` lacks a field of the contract.
[[nodiscard]] std::vector<std::string> hook_environment(const nlohmann::json& event, EpisodeState state,
                                                        std::string_view host);

}  // namespace ctmon::notify
