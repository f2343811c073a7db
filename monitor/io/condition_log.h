#pragma once
// "Log each condition once": a daemon that retries something every sample (a missing table, a
// full disk, an unreachable server) must say so when the condition starts and when it ends, never
// once per sample. ConditionLog remembers which condition was last reported; the caller logs only
// when it says so. It logs nothing itself, so every layer (inputs, outputs, the daemon) can use it
// with its own logger.
//
//   if (table_.enter(TableTrouble::kMissing)) log.warning("table disappeared");
//   ...
//   if (table_.clear()) log.info("table readable again");

#include <optional>
#include <variant>

namespace ctmon {

/// `Condition` is what distinguishes one trouble from another (an enum, an outcome); the default
/// std::monostate is for a single yes/no condition. Not thread-safe; no allocation.
template <class Condition = std::monostate>
class ConditionLog {
 public:
  /// Reports that `condition` holds now. Returns true when it is not the condition reported last
  /// (entering it, or changing from another one): the caller logs it now.
  bool enter(const Condition& condition = Condition{}) {
    if (current_ && *current_ == condition) return false;
    current_ = condition;
    return true;
  }

  /// Reports that no condition holds. Returns true when one did: the caller logs the recovery now.
  bool clear() {
    if (!current_) return false;
    current_.reset();
    return true;
  }

  /// True while a condition holds (between enter() and clear()).
  [[nodiscard]] bool active() const { return current_.has_value(); }
  /// The condition that holds, if any.
  [[nodiscard]] const std::optional<Condition>& current() const { return current_; }

 private:
  std::optional<Condition> current_;
};

}  // namespace ctmon
