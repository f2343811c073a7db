// The endpoint over a real loopback socket, pumped the way the daemon's loop pumps it: answers,
// bounds, and a silent client that must not hold up the loop.
#include "monitor/prometheus/prometheus_output.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include <catch2/catch.hpp>

#include "monitor/clock.h"
#include "monitor/user_error.h"

using namespace ctmon;
using namespace ctmon::prometheus;

namespace {

ListenAddress loopback(std::uint16_t port) {
  return {ListenAddress::Family::kIpv4, "127.0.0.1", port};
}

PrometheusOutput make(std::uint16_t port = 0) {
  return PrometheusOutput(
      loopback(port),
      [] {
        status::DaemonStatus s;
        s.source.table = "ip:conntrack_stats";
        s.samples = 42;
        return s;
      },
      {});
}

class Client {
 public:
  explicit Client(std::uint16_t port) : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    REQUIRE(connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  }
  ~Client() { close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void send_text(const std::string& text) const {
    REQUIRE(::send(fd_, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size()));
  }

  // Whatever arrived, without waiting.
  bool read_available(std::string& into) const {
    char buffer[4096];
    const ssize_t n = recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n > 0) into.append(buffer, static_cast<std::size_t>(n));
    return n == 0;  // closed
  }

 private:
  int fd_;
};

// One turn of the daemon's loop for this output alone; returns how long the wait lasted.
std::int64_t turn(PrometheusOutput& output, int max_wait_ms) {
  std::vector<pollfd> fds;
  const std::int64_t now = now_mono_ns();
  const std::int64_t due = output.want(fds, now);
  const int wait_ms =
      due == io::kNever ? max_wait_ms : static_cast<int>(std::min<std::int64_t>(max_wait_ms, (due - now) / 1'000'000));
  poll(fds.data(), fds.size(), std::max(0, wait_ms));
  output.pump(now_mono_ns());
  return now_mono_ns() - now;
}

// Pumps until the client saw the connection close (HTTP/1.0) or 5 s passed.
std::string exchange(PrometheusOutput& output, const Client& client) {
  std::string answer;
  for (int i = 0; i < 500; ++i) {
    turn(output, 10);
    if (client.read_available(answer)) break;
  }
  return answer;
}

}  // namespace

TEST_CASE("prometheus endpoint: GET /metrics answers the exposition, counted in the status") {
  PrometheusOutput output = make();
  REQUIRE(output.port() != 0);
  Client client(output.port());
  client.send_text("GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n");
  const std::string answer = exchange(output, client);
  CHECK_THAT(answer, Catch::StartsWith("HTTP/1.0 200") || Catch::StartsWith("HTTP/1.1 200"));
  CHECK_THAT(answer, Catch::Contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"));
  CHECK_THAT(answer, Catch::Contains("\nctmon_samples_total 42\n"));
  CHECK_THAT(answer, Catch::Contains("\nctmon_prometheus_scrapes_total 1\n"));
  status::DaemonStatus s;
  output.report(s);
  REQUIRE(s.prometheus);
  CHECK(s.prometheus->scrapes == 1);
  CHECK(s.prometheus->listen == "127.0.0.1:" + std::to_string(output.port()));
  CHECK(s.prometheus->last_scrape_wall_ns > 0);
}

TEST_CASE("prometheus endpoint: other paths and methods are refused") {
  PrometheusOutput output = make();
  {
    Client client(output.port());
    client.send_text("GET /nothing HTTP/1.0\r\n\r\n");
    CHECK_THAT(exchange(output, client), Catch::Contains(" 404 "));
  }
  {
    Client client(output.port());
    client.send_text("DELETE /metrics HTTP/1.0\r\n\r\n");
    CHECK_THAT(exchange(output, client), Catch::Contains(" 405 "));
  }
  status::DaemonStatus s;
  output.report(s);
  CHECK(s.prometheus->scrapes == 0);
}

TEST_CASE("prometheus endpoint: a request larger than the bound is refused, not buffered") {
  PrometheusOutput output = make();
  Client client(output.port());
  client.send_text("GET /metrics HTTP/1.0\r\nX-Filler: " + std::string(PrometheusOutput::kMemoryLimit, 'a') +
                   "\r\n\r\n");
  const std::string answer = exchange(output, client);
  CHECK_THAT(answer, Catch::Contains(" 431 ") || Catch::Contains(" 413 ") || Catch::Contains(" 414 "));
  CHECK_THAT(answer, !Catch::Contains("ctmon_samples_total"));
}

TEST_CASE("prometheus endpoint: a client that sends nothing does not hold up the loop") {
  PrometheusOutput output = make();
  Client silent(output.port());
  // Every turn with the silent client connected returns at once once the connection is
  // accepted: the wait is the loop's, never a read blocking inside pump().
  for (int i = 0; i < 20; ++i) {
    std::vector<pollfd> fds;
    (void)output.want(fds, now_mono_ns());
    const std::int64_t before = now_mono_ns();
    output.pump(before);
    CHECK(now_mono_ns() - before < 50'000'000);
  }
  // and another client is answered meanwhile.
  Client client(output.port());
  client.send_text("GET /metrics HTTP/1.0\r\n\r\n");
  CHECK_THAT(exchange(output, client), Catch::Contains("ctmon_samples_total 42"));
}

TEST_CASE("prometheus endpoint: a port in use is a one-line UserError") {
  PrometheusOutput first = make();
  CHECK_THROWS_MATCHES(make(first.port()), UserError,
                       Catch::Message("prometheus_listen 127.0.0.1:" + std::to_string(first.port()) + ": port " +
                                      std::to_string(first.port()) +
                                      " is already in use (another ctmon or exporter?); choose another port"));
}

TEST_CASE("prometheus endpoint: an address no interface has is a one-line UserError") {
  // 192.0.2.0/24 is TEST-NET-1: never assigned to this machine.
  CHECK_THROWS_WITH(PrometheusOutput({ListenAddress::Family::kIpv4, "192.0.2.1", 9101}, [] { return status::DaemonStatus{}; }, {}),
                    Catch::Contains("no interface of this machine has the address 192.0.2.1"));
}
