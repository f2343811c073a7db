#pragma once
// Asking the running daemon, over its Unix socket, how it is doing ("status") and for the samples
// it holds in RAM ("samples"). The daemon side is monitor/daemon/status_server.h.
//
// Protocol: the client connects, writes one request line ("status\n" or "samples\n", at most
// kMaxRequestBytes), and reads one JSON document until the daemon closes the connection. An
// unknown request gets {"error": "..."}. The daemon gives each client kClientTimeout_ms in all.
//
// Where: the socket sits next to the daemon's pid file (the `status_file` setting), with ".sock"
// in place of ".status": /run/ctmon/ctmon.status -> /run/ctmon/ctmon.sock. The pid file, written
// once at start and removed at a clean stop, is how a reader tells a dead daemon (pid gone) from
// a stuck one (pid alive, no answer) and from an older ctmon that has no socket.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "monitor/status/daemon_status.h"

namespace ctmon::status {

inline constexpr std::size_t kMaxRequestBytes = 64;
inline constexpr std::int64_t kClientTimeout_ms = 2000;
inline constexpr std::string_view kStatusRequest = "status";
inline constexpr std::string_view kSamplesRequest = "samples";

/// The socket path for a pid file path (see above).
[[nodiscard]] std::string status_socket_path(const std::string& status_file);

struct Answer {
  enum class Outcome {
    kAnswered,  ///< `body` holds the daemon's JSON document
    kAbsent,    ///< no socket, or nobody listening on it (no daemon, a dead one, an older one)
    kNoAnswer,  ///< connected, but no complete answer within the timeout (stuck or stopped)
    kDenied,    ///< no permission to connect: `error` says what to do
  };
  Outcome outcome = Outcome::kAbsent;
  std::string body;
  std::string error;  ///< one line, for kDenied and kNoAnswer
};

/// How long a reader waits when the daemon's answer only adds to what the database says (the
/// live interval in `ctmon events`, the samples not yet committed in `ctmon series`): a stuck
/// daemon must not make those commands hang.
inline constexpr std::int64_t kCourtesyTimeout_ms = 1000;

/// Sends `request` to the daemon listening on `socket_path` and waits up to `timeout_ms` for its
/// whole answer (at most `max_bytes`; more is kNoAnswer). Never throws for what the daemon or the
/// socket does.
[[nodiscard]] Answer ask_daemon(const std::string& socket_path, std::string_view request,
                                std::int64_t timeout_ms, std::size_t max_bytes = 64U << 20);

/// The socket of the daemon whose pid file is `status_file`: the one the pid file names, else
/// status_socket_path().
[[nodiscard]] std::string socket_of(const std::string& status_file);

/// What a reader knows about the daemon of one pid file / socket pair.
struct DaemonContact {
  std::string status_file;
  std::string socket_path;
  bool pid_file_present = false;
  std::optional<std::int64_t> pid;       ///< from the answer, else from the pid file
  bool alive = false;                    ///< the pid exists (kill(pid, 0))
  Answer::Outcome outcome = Answer::Outcome::kAbsent;
  std::string error;                     ///< why there is no status, when there is a reason
  std::optional<DaemonStatus> status;    ///< when the daemon answered with a valid status
};

/// Asks the daemon for its status and reads the pid file, for `ctmon status` and friends.
[[nodiscard]] DaemonContact contact_daemon(const std::string& status_file, std::int64_t timeout_ms);

/// The pid file's content: {"pid", "started_ts", "socket", "db"}; nullopt when it is missing or
/// not JSON.
[[nodiscard]] std::optional<nlohmann::json> read_pid_file(const std::string& path);

/// True when process `pid` exists (kill(pid, 0); EPERM counts: it exists under another user).
[[nodiscard]] bool process_alive(std::int64_t pid);

}  // namespace ctmon::status
