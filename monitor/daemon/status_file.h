#pragma once
// The daemon's pid file (the `status_file` setting, /run/ctmon/ctmon.status by default): one
// JSON object {pid, started_ts, socket, db} written once at start and removed at a clean stop.
// It lives in /run (RAM), never on flash. Readers (monitor/status/status_socket.h) ask the
// socket it names for the live status, and use the pid to tell a dead daemon from a stuck one.

#include <string>

#include <nlohmann/json.hpp>

namespace ctmon {

/// Replaces `path` with `content` atomically (write to `path`.tmp, rename), creating the directory
/// when missing. The temporary file is created exclusively and never through a symlink: one
/// planted there is removed, not followed. Returns an error text, or "" on success.
[[nodiscard]] std::string write_status_file(const std::string& path, const nlohmann::json& content);

}  // namespace ctmon
