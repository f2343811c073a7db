#pragma once
// `[mqtt]`: episodes and rates to an MQTT broker, with Home Assistant discovery, as an output of
// the daemon (io/output.h). Off (never constructed) while mqtt.url is empty. The topics and
// payloads are discovery.h's.
//
// How it talks to the broker, and why:
//   - libmosquitto without its thread: the client's socket is one more descriptor of the
//     daemon's ppoll (POLLOUT only while the library has bytes to write), and pump() runs
//     mosquitto_loop_read/write/misc, which never block on a non-blocking socket.
//   - A broker given by name is looked up at each attempt on the resolver's thread (resolver.h
//     says why that thread exists); libmosquitto is then given the address, so it never calls
//     the resolver itself. The connection is made with mosquitto_connect_async: the TCP connect
//     does not wait. No CONNACK within kConnectTimeout_ns: the attempt is given up.
//   - A broker that is down or refuses costs a timer: attempts back off from 1 s to 60 s (with
//     jitter, influx/retry_policy.h). The failure is logged once per condition (unreachable,
//     refused by the broker), its end once.
//   - Every message is QoS 1 and retained. ctmon keeps its own ordered queue of what is not yet
//     acknowledged (PUBACK): a message leaves it only when the broker has it. When the connection
//     drops, the client is thrown away with whatever it held, and the next connection sends the
//     queue again in order: an episode that opened and closed while the broker was down arrives
//     as ON then OFF once it is back. A message whose PUBACK was lost may arrive twice; every
//     topic is a state, so twice is the same as once (Home Assistant sees no change). That is
//     why ctmon publishes states only, not per-episode event messages.
//   - While disconnected, what only replaces an earlier value (peak updates of an episode, rates)
//     replaces it in the queue; opens and closes are kept in order. At most kMaxQueued messages
//     wait; past that the oldest are dropped (logged once): the newest, the current state, stay.
//   - At each connection: the discovery configs (when on), "online" on the availability topic,
//     the last value of each state topic that has nothing newer in the queue (a broker without
//     persistence forgets retained messages when it restarts), then the queue. The last will is "offline", retained: the broker publishes it when the
//     connection dies without a DISCONNECT, which is also how a stopping ctmon goes offline
//     (finish() sends nothing: it must not wait on the network).
//   - The password is read once at start from mqtt.password_file; it is never in argv or the
//     config. There is no TLS (OpenWrt's libmosquitto-nossl): keep the broker on the LAN.

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "monitor/config/config.h"
#include "monitor/io/condition_log.h"
#include "monitor/io/log_sink.h"
#include "monitor/io/output.h"
#include "monitor/mqtt/discovery.h"
#include "monitor/mqtt/resolver.h"

struct mosquitto;

namespace ctmon::mqtt {

struct MqttSettings {
  Identity id;
  MqttBroker broker;
  std::string url;            ///< for log lines and status
  std::string user;
  std::string password;       ///< read from mqtt.password_file
  bool discovery = true;
  double rates_interval_s = 60;
};

/// Why the broker is not connected, for logging each kind once.
enum class MqttTrouble { kUnreachable, kRefused };

class MqttOutput : public io::Output {
 public:
  static constexpr std::size_t kMaxQueued = 256;
  static constexpr std::int64_t kConnectTimeout_ns = 10'000'000'000;
  static constexpr std::int64_t kMiscInterval_ns = 5'000'000'000;  ///< keepalive checks
  static constexpr int kKeepalive_s = 60;
  static constexpr std::int64_t kBackoffInitial_ms = 1'000;
  static constexpr std::int64_t kBackoffMax_ms = 60'000;

  MqttOutput(MqttSettings settings, io::LogSink log);
  ~MqttOutput() override;
  MqttOutput(const MqttOutput&) = delete;
  MqttOutput& operator=(const MqttOutput&) = delete;

  [[nodiscard]] std::string_view name() const override { return "mqtt"; }
  void start(const Analyzer& analyzer) override;
  void on_sample(const io::SampleView& view) override;
  void on_episode(const Episode& episode, EpisodeChange change, const io::SampleView& view) override;
  void on_episode_closed_at_restart(const Episode& episode) override;
  std::int64_t want(std::vector<pollfd>& fds, std::int64_t now_mono_ns) override;
  void pump(std::int64_t now_mono_ns) override;
  void report(status::DaemonStatus& status) const override;

  /// Messages waiting for the broker's acknowledgement.
  [[nodiscard]] std::size_t queued() const { return queue_.size(); }

 private:
  struct Queued {
    Message message;
    int mid = 0;               // the library's id once handed to it; 0: not yet
    bool replaceable = false;  // a newer value for the same topic may take its place
  };
  struct ClientDeleter {
    void operator()(mosquitto* client) const;
  };
  enum class Link { kDown, kResolving, kConnecting, kUp };

  void enqueue(std::string topic, std::string payload, bool replaceable);
  void enqueue_episode(const Episode& episode, bool transition);
  void connect(const std::string& address, std::int64_t now_mono_ns);
  void connected();
  void send_queued();
  void acknowledged(int mid);
  void refused(int reason);
  void lost(MqttTrouble trouble, const std::string& why, std::int64_t now_mono_ns);

  MqttSettings settings_;
  io::LogSink log_;
  Resolver resolver_;
  std::unique_ptr<mosquitto, ClientDeleter> client_;
  Link link_ = Link::kDown;
  std::int64_t retry_at_mono_ns_ = 0;
  std::int64_t connect_deadline_mono_ns_ = 0;
  std::int64_t next_misc_mono_ns_ = 0;
  std::uint32_t failures_ = 0;
  std::optional<int> refusal_;  // the CONNACK code of the attempt under way, when not 0
  std::deque<Queued> queue_;
  std::map<std::string, std::string> current_;  // the newest payload of each state topic
  ConditionLog<MqttTrouble> trouble_;
  ConditionLog<> overflow_;
  std::minstd_rand random_;

  // The rates' period: sums and sample counts per kRateSensors entry.
  std::vector<std::int8_t> sensor_of_counter_;  // by CounterId; -1: none
  std::array<double, kRateSensors.size()> rate_sums_{};
  std::array<std::uint32_t, kRateSensors.size()> rate_samples_{};
  std::int64_t period_start_mono_ns_ = -1;
  std::string last_rates_payload_;

  status::NotifierStatus status_;
};

/// The output `config` asks for, or nullptr when mqtt.url is empty. Throws UserError when the
/// password file cannot be read or a topic is not valid UTF-8 (the rest validate_config checks).
[[nodiscard]] std::unique_ptr<MqttOutput> make_output(const Config& config, io::LogSink log);

}  // namespace ctmon::mqtt
