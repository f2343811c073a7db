#pragma once
// A file descriptor closed on every path out of its scope, until release() hands it on (to a
// library that closes it itself, such as libmicrohttpd with a listening socket).

#include <unistd.h>

#include <utility>

namespace ctmon {

class OwnedFd {
 public:
  explicit OwnedFd(int fd) : fd_(fd) {}
  ~OwnedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;

  [[nodiscard]] int get() const { return fd_; }  ///< -1 when the call that made it failed
  [[nodiscard]] int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace ctmon
