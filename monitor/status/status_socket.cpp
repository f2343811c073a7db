#include "monitor/status/status_socket.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>

#include "monitor/owned_fd.h"

namespace ctmon::status {
namespace {

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string status_socket_path(const std::string& status_file) {
  constexpr std::string_view kSuffix = ".status";
  if (status_file.size() > kSuffix.size() && status_file.ends_with(kSuffix))
    return status_file.substr(0, status_file.size() - kSuffix.size()) + ".sock";
  return status_file + ".sock";
}

Answer ask_daemon(const std::string& socket_path, std::string_view request, std::int64_t timeout_ms,
                  std::size_t max_bytes) {
  Answer answer;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof address.sun_path) return answer;
  std::memcpy(address.sun_path, socket_path.data(), socket_path.size());
  const OwnedFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) return answer;
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    if (errno == EACCES || errno == EPERM) {
      answer.outcome = Answer::Outcome::kDenied;
      answer.error = "no permission to connect to " + socket_path +
                     ": run as root or as a member of the daemon's group (ctmon)";
    } else if (errno == EAGAIN) {
      answer.outcome = Answer::Outcome::kNoAnswer;  // the daemon's backlog is full: it is not accepting
      answer.error = "the daemon does not accept connections on " + socket_path;
    }
    return answer;  // ENOENT, ECONNREFUSED: nobody there
  }
  const std::int64_t deadline = steady_ms() + timeout_ms;
  const std::string line = std::string(request) + "\n";
  std::size_t sent = 0;
  std::string body;
  char buffer[16384];
  for (;;) {
    const std::int64_t left = deadline - steady_ms();
    if (left <= 0) break;
    pollfd p{fd.get(), static_cast<short>(sent < line.size() ? POLLOUT : POLLIN), 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    if (sent < line.size()) {
      const ssize_t n = send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EINTR) break;
      if (n > 0) sent += static_cast<std::size_t>(n);
      continue;
    }
    const ssize_t n = recv(fd.get(), buffer, sizeof buffer, 0);
    if (n == 0) {
      answer.outcome = Answer::Outcome::kAnswered;
      answer.body = std::move(body);
      return answer;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      break;
    }
    body.append(buffer, static_cast<std::size_t>(n));
    if (body.size() > max_bytes) break;
  }
  answer.outcome = Answer::Outcome::kNoAnswer;
  answer.error = "no answer on " + socket_path + " within " + std::to_string(timeout_ms) + " ms";
  return answer;
}

std::optional<nlohmann::json> read_pid_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  try {
    nlohmann::json j = nlohmann::json::parse(in);
    if (j.is_object()) return j;
  } catch (const nlohmann::json::exception&) {
  }
  return std::nullopt;
}

bool process_alive(std::int64_t pid) {
  return pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

std::string socket_of(const std::string& status_file) {
  const std::optional<nlohmann::json> pid_file = read_pid_file(status_file);
  if (pid_file && pid_file->contains("socket") && (*pid_file)["socket"].is_string())
    return (*pid_file)["socket"].get<std::string>();
  return status_socket_path(status_file);
}

DaemonContact contact_daemon(const std::string& status_file, std::int64_t timeout_ms) {
  DaemonContact c;
  c.status_file = status_file;
  const std::optional<nlohmann::json> pid_file = read_pid_file(status_file);
  c.pid_file_present = pid_file.has_value();
  if (pid_file && pid_file->contains("pid") && (*pid_file)["pid"].is_number_integer())
    c.pid = (*pid_file)["pid"].get<std::int64_t>();
  c.socket_path = socket_of(status_file);
  // A pid file whose process is gone needs no waiting on a socket nobody serves.
  if (c.pid && !process_alive(*c.pid)) return c;
  const Answer answer = ask_daemon(c.socket_path, kStatusRequest, timeout_ms);
  c.outcome = answer.outcome;
  c.error = answer.error;
  if (answer.outcome == Answer::Outcome::kAnswered) {
    try {
      c.status = daemon_status_from_json(nlohmann::json::parse(answer.body));
      c.pid = c.status->pid;
    } catch (const nlohmann::json::exception& e) {
      c.error = std::string("the daemon's answer on ") + c.socket_path + " is not JSON: " + e.what();
    } catch (const StatusFormatError& e) {
      c.error = std::string("the daemon's answer on ") + c.socket_path + " is not a status: " + e.what();
    }
  }
  c.alive = c.pid && process_alive(*c.pid);
  return c;
}

}  // namespace ctmon::status
