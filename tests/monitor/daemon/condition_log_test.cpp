// ConditionLog: a condition is reported when it starts, when it changes and once when it ends.
#include <catch2/catch.hpp>

#include "monitor/io/condition_log.h"

using ctmon::ConditionLog;

TEST_CASE("ConditionLog: once on entering, once on recovering") {
  ConditionLog<> failing;
  CHECK_FALSE(failing.clear());  // nothing to recover from
  CHECK(failing.enter());
  CHECK_FALSE(failing.enter());
  CHECK_FALSE(failing.enter());
  CHECK(failing.active());
  CHECK(failing.clear());
  CHECK_FALSE(failing.clear());
  CHECK(failing.enter());  // a new occurrence is news again
}

TEST_CASE("ConditionLog: a different condition is news, the same one is not") {
  enum class Trouble { kMissing, kUnreadable };
  ConditionLog<Trouble> table;
  CHECK(table.enter(Trouble::kMissing));
  CHECK_FALSE(table.enter(Trouble::kMissing));
  CHECK(table.enter(Trouble::kUnreadable));
  CHECK(table.current() == Trouble::kUnreadable);
  CHECK(table.clear());
  CHECK_FALSE(table.current().has_value());
}
