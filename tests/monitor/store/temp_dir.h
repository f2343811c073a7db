#pragma once
// A fresh directory under /tmp for one test, removed with everything in it at the end.
#include <filesystem>
#include <string>
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

/// A tmpfs of `size` (e.g. "2m") mounted on a fresh directory, unmounted in the destructor. Needs
/// root (CAP_SYS_ADMIN): check mounted() and skip otherwise.
class SmallTmpfs {
 public:
  explicit SmallTmpfs(const char* size);
  ~SmallTmpfs();
  SmallTmpfs(const SmallTmpfs&) = delete;
  SmallTmpfs& operator=(const SmallTmpfs&) = delete;
  [[nodiscard]] bool mounted() const { return mounted_; }
  [[nodiscard]] std::filesystem::path path() const { return dir_.path(); }
  /// Remounts it read-only (true) or read-write; returns false when the kernel refuses.
  bool remount(bool read_only);

 private:
  TempDir dir_;
  std::string size_;
  bool mounted_ = false;
};

/// The whole content of a file (empty if missing).
std::vector<char> file_bytes(const std::filesystem::path& p);

}  // namespace ctmon::store::testing
