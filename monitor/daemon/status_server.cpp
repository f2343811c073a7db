#include "monitor/daemon/status_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "core/time.h"
#include "monitor/io/part.h"
#include "monitor/status/status_socket.h"

namespace ctmon {
namespace {

constexpr int kBacklog = 8;

std::string why(const std::string& what) { return what + ": " + std::strerror(errno); }

sockaddr_un address_of(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path)
    throw std::runtime_error("the status socket path " + path + " is longer than " +
                             std::to_string(sizeof address.sun_path - 1) +
                             " bytes: choose a shorter status_file");
  std::memcpy(address.sun_path, path.data(), path.size());
  return address;
}

// Something is at `path`: remove it only when it is a socket that nobody serves.
void clear_stale_socket(const std::string& path, const sockaddr_un& address) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return;  // nothing there
  if (!S_ISSOCK(st.st_mode))
    throw std::runtime_error(path + " exists and is not a socket: not replacing it (remove it, or "
                                    "choose another status_file)");
  const int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) throw std::runtime_error(why("socket"));
  const bool served = connect(probe, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  const int connect_errno = errno;
  close(probe);
  if (served)
    throw std::runtime_error("another ctmon daemon answers on " + path +
                             ": give this one its own status_file");
  if (connect_errno != ECONNREFUSED)
    throw std::runtime_error(path + ": " + std::strerror(connect_errno));
  if (unlink(path.c_str()) != 0 && errno != ENOENT) throw std::runtime_error(why("cannot remove the stale socket " + path));
}

}  // namespace

StatusServer::StatusServer(std::string path) : path_(std::move(path)) {
  const sockaddr_un address = address_of(path_);
  const std::filesystem::path folder = std::filesystem::path(path_).parent_path();
  std::error_code error;
  if (!folder.empty()) std::filesystem::create_directories(folder, error);
  clear_stale_socket(path_, address);
  listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0) throw std::runtime_error(why("socket"));
  // bind() creates the file with the mode the umask leaves: 0660 exactly, whatever the caller's
  // umask (the daemon is single-threaded, so nothing else creates a file meanwhile).
  const mode_t previous = umask(0117);
  const int bound = bind(listen_fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  const int bind_errno = errno;
  umask(previous);
  struct stat st {};
  if (bound != 0 || listen(listen_fd_, kBacklog) != 0 || lstat(path_.c_str(), &st) != 0) {
    const std::string reason = std::strerror(bound != 0 ? bind_errno : errno);
    close(listen_fd_);
    throw std::runtime_error("cannot listen on " + path_ + ": " + reason);
  }
  inode_ = st.st_ino;
}

StatusServer::~StatusServer() {
  for (const Client& client : clients_) close(client.fd);
  close(listen_fd_);
  struct stat st {};
  if (lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == inode_) unlink(path_.c_str());
}

std::int64_t StatusServer::want(std::vector<pollfd>& fds, std::int64_t now_mono_ns) const {
  (void)now_mono_ns;
  std::int64_t due = io::kNever;
  if (clients_.size() < kMaxClients) fds.push_back({listen_fd_, POLLIN, 0});
  for (const Client& client : clients_) {
    fds.push_back({client.fd, static_cast<short>(client.answering ? POLLOUT : POLLIN), 0});
    due = std::min(due, client.deadline_mono_ns);
  }
  return due;
}

void StatusServer::pump(std::int64_t now_mono_ns, const Responder& respond) {
  accept_clients(now_mono_ns);
  std::erase_if(clients_, [&](Client& client) {
    if (now_mono_ns < client.deadline_mono_ns && serve(client, respond)) return false;
    close(client.fd);
    return true;
  });
}

void StatusServer::accept_clients(std::int64_t now_mono_ns) {
  for (;;) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN: no more waiting; anything else: the next pump tries again
    if (clients_.size() >= kMaxClients) {
      close(fd);
      continue;
    }
    clients_.push_back({fd, now_mono_ns + status::kClientTimeout_ms * kNsPerMs, {}, {}, 0, false});
  }
}

bool StatusServer::serve(Client& client, const Responder& respond) {
  if (!client.answering) {
    char buffer[status::kMaxRequestBytes + 1];
    const ssize_t n = recv(client.fd, buffer, sizeof buffer, 0);
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    client.request.append(buffer, static_cast<std::size_t>(n));
    const std::size_t newline = client.request.find('\n');
    if (newline == std::string::npos) {
      if (n == 0 && !client.request.empty()) {
        // The client closed its side after an unterminated request: answer it anyway.
      } else {
        return n > 0 && client.request.size() <= status::kMaxRequestBytes;
      }
    } else {
      client.request.resize(newline);
    }
    if (client.request.size() > status::kMaxRequestBytes) return false;
    client.answer = respond(client.request);
    client.answering = true;
  }
  while (client.sent < client.answer.size()) {
    const ssize_t n = send(client.fd, client.answer.data() + client.sent, client.answer.size() - client.sent,
                           MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    client.sent += static_cast<std::size_t>(n);
  }
  return false;  // answered in full: close, which tells the client the answer is complete
}

}  // namespace ctmon
