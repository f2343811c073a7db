#include "monitor/mqtt/resolver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <system_error>
#include <thread>

namespace ctmon::mqtt {

// Shared by the Resolver and its thread; the last of the two to let go closes the pipe.
struct Resolver::Lookup {
  std::mutex mutex;
  bool done = false;
  Answer answer;
  int read_fd = -1;
  int write_fd = -1;

  Lookup() = default;
  Lookup(const Lookup&) = delete;
  Lookup& operator=(const Lookup&) = delete;
  ~Lookup() {
    if (read_fd >= 0) ::close(read_fd);
    if (write_fd >= 0) ::close(write_fd);
  }
};

namespace {

bool is_address(const std::string& host) {
  in_addr v4{};
  in6_addr v6{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

Resolver::Answer look_up(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0) return {"", rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc)};
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> owned(found, ::freeaddrinfo);
  char text[NI_MAXHOST] = {};
  if (::getnameinfo(found->ai_addr, found->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST) != 0)
    return {"", "the address found cannot be written"};
  return {text, ""};
}

}  // namespace

bool Resolver::start(const std::string& host) {
  lookup_.reset();
  ready_.reset();
  if (is_address(host)) {
    ready_ = Answer{host, ""};
    return true;
  }
  auto lookup = std::make_shared<Lookup>();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    ready_ = Answer{"", std::string("cannot make a pipe: ") + std::strerror(errno)};
    return false;
  }
  lookup->read_fd = fds[0];
  lookup->write_fd = fds[1];
  try {
    std::thread([lookup, host] {
      Answer answer = look_up(host);
      const std::lock_guard lock(lookup->mutex);
      lookup->answer = std::move(answer);
      lookup->done = true;
      const char wake = 1;
      (void)!::write(lookup->write_fd, &wake, 1);
    }).detach();
  } catch (const std::system_error& e) {
    ready_ = Answer{"", std::string("cannot start the lookup: ") + e.what()};
    return false;
  }
  lookup_ = std::move(lookup);
  return true;
}

int Resolver::fd() const { return lookup_ ? lookup_->read_fd : -1; }

std::optional<Resolver::Answer> Resolver::take() {
  if (ready_) {
    std::optional<Answer> answer = std::move(ready_);
    ready_.reset();
    return answer;
  }
  if (!lookup_) return std::nullopt;
  const std::shared_ptr<Lookup> lookup = lookup_;  // outlives the lock below
  Answer answer;
  {
    const std::lock_guard lock(lookup->mutex);
    if (!lookup->done) return std::nullopt;
    answer = std::move(lookup->answer);
  }
  lookup_.reset();
  return answer;
}

}  // namespace ctmon::mqtt
