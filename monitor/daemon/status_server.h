#pragma once
// The daemon's side of the status socket (protocol: monitor/status/status_socket.h), served from
// the daemon's one poll loop without ever blocking it: non-blocking accept, read and write, a
// request of at most kMaxRequestBytes, kClientTimeout_ms per client, at most kMaxClients at once
// (more are closed at once). A slow or silent client costs a descriptor until its timeout, never
// a delayed sample.
//
// The socket file: mode 0660 (the daemon's group may ask, e.g. the ctmon group of the CLI
// users), created by bind() (which never follows a symlink and never replaces a file). A file in
// the way is removed only when it is a socket nobody listens on (left by a daemon that died);
// anything else, or a socket another daemon serves, is left alone and reported.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <poll.h>

namespace ctmon {

class StatusServer {
 public:
  /// Builds the answer to one request line (without its newline).
  using Responder = std::function<std::string(std::string_view request)>;

  /// Listens on `path`, creating its folder when missing. Throws std::runtime_error with a
  /// one-line reason when it cannot (the caller logs it and runs without a socket).
  explicit StatusServer(std::string path);
  /// Closes every connection and removes the socket file (when it is still the one created).
  ~StatusServer();
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  [[nodiscard]] const std::string& path() const { return path_; }

  /// Appends the listening socket and the clients' descriptors; returns the earliest client
  /// timeout (or the daemon's "never" when there is no client).
  std::int64_t want(std::vector<pollfd>& fds, std::int64_t now_mono_ns) const;

  /// Accepts, reads, answers and closes what is ready, and drops clients past their timeout.
  void pump(std::int64_t now_mono_ns, const Responder& respond);

  static constexpr std::size_t kMaxClients = 8;

 private:
  struct Client {
    int fd = -1;
    std::int64_t deadline_mono_ns = 0;
    std::string request;
    std::string answer;
    std::size_t sent = 0;
    bool answering = false;
  };

  void accept_clients(std::int64_t now_mono_ns);
  /// False when the client is done (answered or failed) and must be closed.
  bool serve(Client& client, const Responder& respond);

  std::string path_;
  int listen_fd_ = -1;
  std::uint64_t inode_ = 0;  // of the socket file created, so that only it is removed
  std::vector<Client> clients_;
};

}  // namespace ctmon
