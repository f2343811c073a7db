#pragma once
// The detectors' state: one versioned blob, saved when it changes (typically at episode
// boundaries and at shutdown) so a restart resumes with warm baselines instead of relearning.

#include <cstdint>
#include <optional>
#include <vector>

#include "monitor/store/database.h"

namespace ctmon::store {

struct DetectorState {
  std::int64_t format_version = 0;  ///< the detectors' own format number for `data`
  /// Wall time of the last sample the detectors had seen: the stored samples after it are the
  /// ones a restart after a crash feeds them again.
  std::int64_t saved_wall_ns = 0;
  std::vector<std::uint8_t> data;
};

class StateStore {
 public:
  /// `db` must outlive the store.
  explicit StateStore(Database& db) : db_(db) {}

  /// Replaces the saved state, durably, in its own transaction. Throws SqliteError.
  void save(const DetectorState& state);

  /// The saved state when its format_version equals `expected_format_version`; nullopt when
  /// none is saved or it has another version (state from another ctmon release is not read:
  /// the detectors then start cold). Throws SqliteError.
  [[nodiscard]] std::optional<DetectorState> load(std::int64_t expected_format_version) const;

  /// The saved state's format_version, if any state is saved.
  [[nodiscard]] std::optional<std::int64_t> saved_version() const;

  /// Forgets the saved state. Throws SqliteError.
  void clear();

 private:
  Database& db_;
};

}  // namespace ctmon::store
