#include "monitor/mqtt/mqtt_output.h"

#include <arpa/inet.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "monitor/mqtt/resolver.h"
#include "monitor/user_error.h"

using namespace ctmon;
using namespace ctmon::mqtt;

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

// A loopback port for the broker to be down or unresponsive.
class LoopbackPort {
 public:
  /// refusing: bound, never listening, so a connect is refused at once. silent: listening but
  /// never reading, so the TCP handshake completes and the broker's answer never comes.
  enum Kind { refusing, silent };
  explicit LoopbackPort(Kind kind) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    if (kind == silent) REQUIRE(::listen(fd_, 8) == 0);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
  }
  ~LoopbackPort() { ::close(fd_); }
  LoopbackPort(const LoopbackPort&) = delete;
  LoopbackPort& operator=(const LoopbackPort&) = delete;
  [[nodiscard]] int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

struct Logged {
  std::vector<std::string> lines;
  io::LogSink sink() {
    return [this](io::Severity severity, const std::string& line) {
      if (severity != io::Severity::kInfo) lines.push_back(line);
    };
  }
};

Config config_for(int port) {
  Config config;
  config.host = "gw1";
  config.mqtt.url = "mqtt://127.0.0.1:" + std::to_string(port);
  return config;
}

Episode closed_episode(std::uint64_t id) {
  Episode e;
  e.id = id;
  e.start_wall_ns = 1'764'000'000'000'000'000;
  e.end_wall_ns = e.start_wall_ns + 60 * kSecond;
  e.open = false;
  e.peak_score = 0.9;
  e.kind = EpisodeKind::scan;
  return e;
}

}  // namespace

TEST_CASE("off while mqtt.url is empty") { CHECK(make_output(Config{}, nullptr) == nullptr); }

TEST_CASE("a password file that cannot be read stops the start with one line naming it") {
  Config config = config_for(1883);
  config.mqtt.user = "ctmon";
  config.mqtt.password_file = "/nonexistent/mqtt.pass";
  CHECK_THROWS_WITH(make_output(config, nullptr), Catch::Contains("/nonexistent/mqtt.pass"));
}

TEST_CASE("a refused broker: queued messages wait, backoff, one log line per condition") {
  LoopbackPort port(LoopbackPort::refusing);
  Logged log;
  auto out = make_output(config_for(port.port()), log.sink());
  REQUIRE(out);
  const Analyzer analyzer{AnalyzerConfig{}};
  out->start(analyzer);
  CHECK(out->queued() == 1);  // "OFF": no episode open
  out->on_episode_closed_at_restart(closed_episode(3));
  CHECK(out->queued() == 4);  // its attributes, last_episode and OFF, in that order

  std::int64_t now = 1000 * kSecond;
  std::vector<pollfd> fds;
  CHECK(out->want(fds, now) <= now);  // the first attempt is due at once
  for (int i = 0; i < 5 && log.lines.empty(); ++i) {
    out->pump(now);
    fds.clear();
    (void)out->want(fds, now);
  }
  REQUIRE(log.lines.size() == 1);
  CHECK(log.lines[0].find("mqtt://127.0.0.1:" + std::to_string(port.port())) != std::string::npos);
  CHECK(log.lines[0].find("Connection refused") != std::string::npos);

  status::DaemonStatus status;
  out->report(status);
  REQUIRE(status.notifiers.size() == 1);
  CHECK(status.notifiers[0].name == "mqtt");
  CHECK(status.notifiers[0].state == "disconnected");
  CHECK(status.notifiers[0].target == "mqtt://127.0.0.1:" + std::to_string(port.port()));
  CHECK(status.notifiers[0].queued == 4);
  CHECK(status.notifiers[0].failed == 1);
  CHECK(status.notifiers[0].detail.find("Connection refused") != std::string::npos);

  // Backing off: nothing to wait for but the retry time, 0.5 to 1 s after the first failure.
  fds.clear();
  const std::int64_t retry = out->want(fds, now);
  CHECK(fds.empty());
  CHECK(retry >= now + kSecond / 2);
  CHECK(retry <= now + kSecond);
  // More failures of the same kind are counted, not logged again; the queue stays whole.
  for (int i = 0; i < 4; ++i) {
    now += 120 * kSecond;
    out->pump(now);
    out->pump(now);
  }
  CHECK(log.lines.size() == 1);
  CHECK(out->queued() == 4);
  status = {};
  out->report(status);
  CHECK(status.notifiers[0].failed >= 4);
}

TEST_CASE("the resolver answers an address at once and a name from its thread, waking a poll") {
  Resolver resolver;
  REQUIRE(resolver.start("192.0.2.7"));
  CHECK(resolver.fd() == -1);  // no thread for an address
  auto answer = resolver.take();
  REQUIRE(answer);
  CHECK(answer->address == "192.0.2.7");
  CHECK_FALSE(resolver.take());

  REQUIRE(resolver.start("localhost"));  // /etc/hosts: no DNS server needed
  REQUIRE(resolver.fd() >= 0);
  pollfd p{resolver.fd(), POLLIN, 0};
  REQUIRE(::poll(&p, 1, 10'000) == 1);
  answer = resolver.take();
  REQUIRE(answer);
  CHECK((answer->address == "127.0.0.1" || answer->address == "::1"));
  CHECK(answer->error.empty());
  CHECK(resolver.fd() == -1);
}

TEST_CASE("while it retries after a failure, the status names the failure, not the attempt") {
  LoopbackPort broker(LoopbackPort::silent);
  Logged log;
  auto out = make_output(config_for(broker.port()), log.sink());
  REQUIRE(out);
  const Analyzer analyzer{AnalyzerConfig{}};
  out->start(analyzer);
  auto state = [&] {
    status::DaemonStatus status;
    out->report(status);
    return status.notifiers.at(0).state;
  };
  std::int64_t now = 1000 * kSecond;
  out->pump(now);
  CHECK(state() == "connecting");  // the first attempt: nothing has failed yet
  now += 120 * kSecond;            // past the attempt's timeout: it failed
  out->pump(now);
  REQUIRE(state() == "disconnected");
  REQUIRE(log.lines.size() == 1);
  now += 120 * kSecond;  // past the backoff: the next attempt is under way, and hangs again
  out->pump(now);
  CHECK(state() == "disconnected");
}
