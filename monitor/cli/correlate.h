#pragma once
// `ctmon correlate` as a function of a database file, so that a test can run it on a database it
// wrote without spawning the binary.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace ctmon::cli {

struct CorrelateOptions {
  std::optional<std::string> since, until;
  bool json = false;
};

/// The report (text, or one JSON object with `json`) over samples and episodes with wall time in
/// [since_wall_ns, until_wall_ns); pass the int64 limits for an open end. Throws UserError when the
/// database is missing or unreadable, or the period is too long to hold in memory.
[[nodiscard]] std::string correlate_report(const std::filesystem::path& db_path, std::int64_t since_wall_ns,
                                           std::int64_t until_wall_ns, bool json);

}  // namespace ctmon::cli
