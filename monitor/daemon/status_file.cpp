#include "monitor/daemon/status_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ctmon {
namespace {

std::string failure(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

// Creates `path` afresh, never through what is already there: a symlink planted at the
// temporary name (by anyone who can write the folder) would otherwise make the daemon truncate
// its target. A leftover (a crash between create and rename) is removed, the link itself and
// not what it points to, and creation retried once. Mode 0640, as the database: the daemon's
// group (the CLI users) may read it, others not.
int create_exclusively(const std::string& path) {
  constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd = ::open(path.c_str(), kFlags, 0640);
  if (fd < 0 && errno == EEXIST && ::unlink(path.c_str()) == 0) fd = ::open(path.c_str(), kFlags, 0640);
  return fd;
}

}  // namespace

std::string write_status_file(const std::string& path, const nlohmann::json& content) {
  const std::filesystem::path target(path);
  std::error_code error;
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path(), error);
  const std::string temporary = path + ".tmp";
  const int fd = create_exclusively(temporary);
  if (fd < 0) return failure("cannot create", temporary);
  const std::string text = content.dump() + '\n';
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int write_errno = errno;
  if (::close(fd) != 0 || !written) {
    errno = written ? errno : write_errno;
    const std::string message = failure("cannot write", temporary);
    (void)::unlink(temporary.c_str());
    return message;
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) return failure("cannot replace", path);
  return {};
}

}  // namespace ctmon
