// The status socket on a real Unix socket in a temporary folder: answers, a silent or oversized
// client never holds up the loop, and the socket file is created and removed safely.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "core/time.h"
#include "monitor/clock.h"
#include "monitor/daemon/status_server.h"
#include "monitor/status/status_socket.h"
#include "tests/monitor/store/temp_dir.h"

using namespace ctmon;

namespace {


// Pumps `server` as the daemon's loop does (poll on its descriptors, then pump) until `done`.
void serve_until(StatusServer& server, const std::atomic<bool>& done, std::int64_t* longest_pump_ns = nullptr) {
  const std::int64_t give_up = now_mono_ns() + 10'000 * kNsPerMs;
  while (!done && now_mono_ns() < give_up) {
    std::vector<pollfd> fds;
    (void)server.want(fds, now_mono_ns());
    poll(fds.data(), fds.size(), 20);
    const std::int64_t start = now_mono_ns();
    server.pump(now_mono_ns(), [](std::string_view request) { return "{\"you\":\"" + std::string(request) + "\"}"; });
    if (longest_pump_ns != nullptr) *longest_pump_ns = std::max(*longest_pump_ns, now_mono_ns() - start);
  }
}

int connect_to(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  return fd;
}

}  // namespace

TEST_CASE("StatusServer: answers a request, with the socket file at mode 0660") {
  store::testing::TempDir dir;
  const std::string path = (dir / "run" / "ctmon.sock").string();
  std::atomic<bool> done = false;
  {
    StatusServer server(path);
    struct stat st {};
    REQUIRE(lstat(path.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 0777) == 0660);
    auto answer = std::async(std::launch::async, [&] {
      const status::Answer a = status::ask_daemon(path, "status", 5000);
      done = true;
      return a;
    });
    serve_until(server, done);
    const status::Answer a = answer.get();
    CHECK(a.outcome == status::Answer::Outcome::kAnswered);
    CHECK(a.body == "{\"you\":\"status\"}");
  }
  struct stat st {};
  CHECK(lstat(path.c_str(), &st) != 0);  // removed with the server
}

TEST_CASE("StatusServer: a silent client and an oversized request cost no waiting") {
  store::testing::TempDir dir;
  const std::string path = (dir / "ctmon.sock").string();
  StatusServer server(path);
  const int silent = connect_to(path);
  const int chatty = connect_to(path);
  const std::string flood(4 * status::kMaxRequestBytes, 'x');
  REQUIRE(write(chatty, flood.data(), flood.size()) == static_cast<ssize_t>(flood.size()));
  std::atomic<bool> done = false;
  std::int64_t longest_pump_ns = 0;
  auto answer = std::async(std::launch::async, [&] {
    const status::Answer a = status::ask_daemon(path, "status", 5000);
    done = true;
    return a;
  });
  serve_until(server, done, &longest_pump_ns);
  CHECK(answer.get().outcome == status::Answer::Outcome::kAnswered);
  CHECK(longest_pump_ns < 50 * kNsPerMs);
  // The oversized request was dropped: its connection is closed without an answer.
  char byte = 0;
  CHECK(read(chatty, &byte, 1) <= 0);
  // The silent one is dropped at its timeout, not before.
  std::vector<pollfd> fds;
  const std::int64_t due = server.want(fds, now_mono_ns());
  CHECK(due > now_mono_ns());
  CHECK(due <= now_mono_ns() + status::kClientTimeout_ms * kNsPerMs);
  server.pump(due + 1, [](std::string_view) { return std::string("{}"); });
  CHECK(read(silent, &byte, 1) == 0);
  close(silent);
  close(chatty);
}

TEST_CASE("StatusServer: a stale socket is replaced, anything else is left alone") {
  store::testing::TempDir dir;
  const std::string path = (dir / "ctmon.sock").string();
  {
    // A socket file nobody listens on, as a killed daemon leaves it.
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.data(), path.size());
    REQUIRE(bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
    close(fd);
  }
  {
    StatusServer server(path);
    // A second daemon on the same path must not steal the first one's socket.
    CHECK_THROWS_WITH(StatusServer(path), Catch::Contains("another ctmon daemon answers on"));
  }
  std::ofstream(path) << "precious";
  CHECK_THROWS_WITH(StatusServer(path), Catch::Contains("exists and is not a socket"));
  std::ifstream in(path);
  std::string content;
  in >> content;
  CHECK(content == "precious");
  const std::string target = (dir / "target").string();
  REQUIRE(symlink(target.c_str(), (dir / "link.sock").c_str()) == 0);
  CHECK_THROWS(StatusServer((dir / "link.sock").string()));
  struct stat st {};
  CHECK(lstat(target.c_str(), &st) != 0);  // nothing created through the link
}

TEST_CASE("ask_daemon: nobody there, and nobody answering") {
  store::testing::TempDir dir;
  const std::string path = (dir / "ctmon.sock").string();
  CHECK(status::ask_daemon(path, "status", 200).outcome == status::Answer::Outcome::kAbsent);
  StatusServer server(path);  // listening, never pumped: a stopped daemon
  const auto start = now_mono_ns();
  const status::Answer a = status::ask_daemon(path, "status", 300);
  CHECK(a.outcome == status::Answer::Outcome::kNoAnswer);
  CHECK(now_mono_ns() - start < 2000 * kNsPerMs);
}
