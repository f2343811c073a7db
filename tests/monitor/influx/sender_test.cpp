// The sender's start-up checks, without a server: credential warnings and its log of them.
// Requests against real and fake servers are in tests/integration/test_influx*.py.
#include "monitor/influx/sender.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <fstream>

#include "monitor/store/database.h"
#include "monitor/store/outbox.h"
#include "tests/monitor/store/temp_dir.h"

using namespace ctmon;
using namespace ctmon::influx;
using ctmon::store::testing::TempDir;

namespace {

std::string secret_file(const TempDir& dir, const char* name, mode_t mode) {
  const std::string path = (dir / name).string();
  std::ofstream(path) << "s3cr3t\n";
  REQUIRE(::chmod(path.c_str(), mode) == 0);
  return path;
}

bool mentions(const std::vector<std::string>& lines, const std::string& word) {
  for (const auto& l : lines)
    if (l.find(word) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("a token or password file readable by others gets one warning naming it") {
  TempDir dir;
  InfluxConfig c;
  c.url = "https://influx.lan:8086";
  c.api = "v2";
  c.org = "home";
  c.bucket = "ctmon";
  c.token_file = secret_file(dir, "token", 0644);
  auto w = credential_warnings(c, false);
  REQUIRE(w.size() == 1);
  CHECK(w[0].find(c.token_file) != std::string::npos);
  CHECK(w[0].find("0644") != std::string::npos);
  CHECK(w[0].find("chmod o-rwx") != std::string::npos);
  CHECK(w[0].find('\n') == std::string::npos);
  CHECK(w[0].find("s3cr3t") == std::string::npos);

  REQUIRE(::chmod(c.token_file.c_str(), 0640) == 0);  // the group may read: its business
  CHECK(credential_warnings(c, false).empty());

  InfluxConfig v1;
  v1.url = "https://influx.lan:8086";
  v1.user = "ctmon";
  v1.password_file = secret_file(dir, "password", 0604);
  w = credential_warnings(v1, false);
  REQUIRE(w.size() == 1);
  CHECK(w[0].find("password file") != std::string::npos);
  REQUIRE(::chmod(v1.password_file.c_str(), 0600) == 0);
  CHECK(credential_warnings(v1, false).empty());
}

TEST_CASE("credentials over plain http:// to a host that is not loopback get one warning") {
  TempDir dir;
  InfluxConfig c;
  c.api = "v2";
  c.org = "home";
  c.bucket = "ctmon";
  c.token_file = secret_file(dir, "token", 0600);
  for (const char* url : {"http://192.0.2.10:8086", "HTTP://influx.lan:8086/", "http://[2001:db8::1]:8086",
                          "http://127.0.0.1.example.com:8086"}) {
    INFO(url);
    c.url = url;
    const auto w = credential_warnings(c, false);
    REQUIRE(w.size() == 1);
    CHECK(w[0].find("plain http://") != std::string::npos);
    CHECK(w[0].find("https://") != std::string::npos);
  }
  for (const char* url : {"https://192.0.2.10:8086", "http://127.0.0.1:8086", "http://127.8.9.1:8086",
                          "http://localhost:8086", "http://[::1]:8086", "http://[::ffff:127.0.0.1]:8086"}) {
    INFO(url);
    c.url = url;
    CHECK(credential_warnings(c, false).empty());
  }
  c.url = "http://192.0.2.10:8086";
  c.token_file.clear();
  CHECK(mentions(credential_warnings(c, true), "plain http://"));  // token from the environment

  InfluxConfig v1;  // no user, no password: nothing to expose
  v1.url = "http://192.0.2.10:8086";
  CHECK(credential_warnings(v1, false).empty());
  v1.user = "ctmon";
  CHECK(mentions(credential_warnings(v1, false), "user and password"));
  v1.user.clear();
  v1.url = "http://ctmon:pw@192.0.2.10:8086";
  CHECK(mentions(credential_warnings(v1, false), "plain http://"));
}

TEST_CASE("the sender logs the credential warnings once, at start") {
  TempDir dir;
  store::Database db = store::Database::open(dir / "ctmon.db");
  store::Outbox outbox(db);
  SenderConfig config;
  config.influx.url = "http://192.0.2.10:8086";
  config.influx.api = "v2";
  config.influx.org = "home";
  config.influx.bucket = "ctmon";
  config.influx.token_file = secret_file(dir, "token", 0644);
  std::vector<std::string> warnings;
  const Sender sender(outbox, config, [&](Severity s, const std::string& line) {
    if (s == Severity::kWarning) warnings.push_back(line);
  });
  CHECK(warnings.size() == 2);
  CHECK(mentions(warnings, "can be read by every user"));
  CHECK(mentions(warnings, "plain http://"));
}

TEST_CASE("TLS failures are told apart from an unreachable server") {
  for (const CURLcode tls : {CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CACERT_BADFILE,
                             CURLE_SSL_CERTPROBLEM, CURLE_SSL_ISSUER_ERROR}) {
    INFO(tls);
    CHECK(classify_transfer(tls, 0) == Outcome::kTlsFailure);
  }
  for (const CURLcode other : {CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_COULDNT_RESOLVE_HOST,
                               CURLE_RECV_ERROR}) {
    INFO(other);
    CHECK(classify_transfer(other, 0) == Outcome::kUnreachable);
  }
  CHECK(classify_transfer(CURLE_OK, 204) == Outcome::kSent);
  CHECK(classify_transfer(CURLE_OK, 401) == Outcome::kUnauthorized);
  CHECK(to_string(Outcome::kTlsFailure) == "TLS failure");
}
