#pragma once
// A fresh directory under /tmp for one test, removed with everything in it at the end.
#include <filesystem>
#include <vector>

namespace ctmon::store::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(const char* name) const { return path_ / name; }
  /// Names of the files in the directory, sorted.
  [[nodiscard]] std::vector<std::string> files() const;

 private:
  std::filesystem::path path_;
};

/// The whole content of a file (empty if missing).
std::vector<char> file_bytes(const std::filesystem::path& p);

}  // namespace ctmon::store::testing
