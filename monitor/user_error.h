#pragma once
// The one exception type users can cause. Its message is the whole error line the user sees
// (without the "ctmon: " prefix): what is wrong and what to do about it.

#include <stdexcept>
#include <string>

namespace ctmon {

class UserError : public std::runtime_error {
 public:
  explicit UserError(const std::string& message, int exit_code = 1)
      : std::runtime_error(message), exit_code_(exit_code) {}
  [[nodiscard]] int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

}  // namespace ctmon
