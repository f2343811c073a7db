#include "monitor/mqtt/mqtt_output.h"

#include <mosquitto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include <fmt/core.h>

#include "monitor/clock.h"
#include "monitor/events/events_json.h"
#include "monitor/influx/retry_policy.h"
#include "monitor/user_error.h"

#ifndef CTMON_VERSION
#define CTMON_VERSION "unknown"
#endif

namespace ctmon::mqtt {
namespace {

MqttOutput* self(void* userdata) { return static_cast<MqttOutput*>(userdata); }

std::string read_password(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    throw UserError(fmt::format("cannot read the MQTT password file '{}' ({}): check mqtt.password_file and the "
                                "file's permissions",
                                path, std::strerror(errno)));
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  if (s.empty()) throw UserError(fmt::format("the MQTT password file '{}' is empty (mqtt.password_file)", path));
  return s;
}

// What a failed library call means, in words: errno's text for MOSQ_ERR_ERRNO.
std::string error_text(int rc, int saved_errno) {
  if (rc == MOSQ_ERR_ERRNO) return std::strerror(saved_errno);
  return mosquitto_strerror(rc);
}

std::int64_t ms_to_ns(std::int64_t ms) { return ms * 1'000'000; }

}  // namespace

void MqttOutput::ClientDeleter::operator()(mosquitto* client) const { mosquitto_destroy(client); }

MqttOutput::MqttOutput(MqttSettings settings, io::LogSink log)
    : settings_(std::move(settings)),
      log_(std::move(log)),
      random_(static_cast<std::uint32_t>(::getpid()) ^ static_cast<std::uint32_t>(now_wall_ns())) {
  status_.name = "mqtt";
  status_.target = settings_.url;
  status_.state = "disconnected";
  if (log_)
    log_(io::Severity::kInfo,
         fmt::format("mqtt: publishing to {} under {} (client id {}, Home Assistant discovery {})", settings_.url,
                     settings_.id.base, settings_.id.client_id,
                     settings_.discovery ? "under " + settings_.id.discovery_prefix : std::string("off")));
}

MqttOutput::~MqttOutput() = default;

void MqttOutput::enqueue(std::string topic, std::string payload, bool replaceable) {
  current_[topic] = payload;
  if (replaceable) {
    // Only over values not yet handed to the library and not past an open or a close, so the
    // order of transitions is kept.
    for (auto it = queue_.rbegin(); it != queue_.rend() && it->mid == 0 && it->replaceable; ++it)
      if (it->message.topic == topic) {
        it->message.payload = std::move(payload);
        return;
      }
  }
  if (queue_.size() >= kMaxQueued) {
    queue_.pop_front();
    ++status_.failed;
    if (overflow_.enter() && log_)
      log_(io::Severity::kWarning,
           fmt::format("mqtt: {} messages are waiting for {}; the oldest are dropped until it takes them (the "
                       "current state is kept)",
                       kMaxQueued, settings_.url));
  } else if (queue_.size() < kMaxQueued / 2 && overflow_.clear() && log_) {
    log_(io::Severity::kInfo, "mqtt: the queue for the broker is short again");
  }
  queue_.push_back({Message{std::move(topic), std::move(payload)}, 0, replaceable});
}

void MqttOutput::enqueue_episode(const Episode& episode, bool transition) {
  const nlohmann::json event = events::episode_to_json(episode);
  // Attributes first: Home Assistant then has them when the state flips.
  enqueue(settings_.id.episode_attributes, event.dump(), !transition);
  enqueue(settings_.id.last_episode, last_episode_payload(event), !transition);
  if (transition)
    enqueue(settings_.id.episode, std::string(episode.open ? kEpisodeOn : kEpisodeOff), false);
}

void MqttOutput::start(const Analyzer& analyzer) {
  if (const Episode* open = analyzer.open_episode())
    enqueue_episode(*open, true);
  else
    enqueue(settings_.id.episode, std::string(kEpisodeOff), false);
}

void MqttOutput::on_episode(const Episode& episode, EpisodeChange change, const io::SampleView& view) {
  (void)view;
  if (change == EpisodeChange::opened || change == EpisodeChange::closed)
    enqueue_episode(episode, true);
  else if (change == EpisodeChange::peak_updated)
    enqueue_episode(episode, false);
}

void MqttOutput::on_episode_closed_at_restart(const Episode& episode) { enqueue_episode(episode, true); }

void MqttOutput::on_sample(const io::SampleView& view) {
  if (settings_.rates_interval_s <= 0) return;
  const CounterCatalog& catalog = view.catalog;
  for (std::size_t id = sensor_of_counter_.size(); id < catalog.size(); ++id) {
    const auto sensor = rate_sensor_of(catalog.name(static_cast<CounterId>(id)));
    sensor_of_counter_.push_back(sensor ? static_cast<std::int8_t>(*sensor) : std::int8_t{-1});
  }
  std::array<double, kRateSensors.size()> sums{};
  std::array<bool, kRateSensors.size()> seen{};
  const std::vector<double>& pps = view.step.counter_pps;
  for (std::size_t id = 0; id < pps.size() && id < sensor_of_counter_.size(); ++id) {
    const int sensor = sensor_of_counter_[id];
    if (sensor < 0 || !std::isfinite(pps[id])) continue;
    sums[static_cast<std::size_t>(sensor)] += pps[id];
    seen[static_cast<std::size_t>(sensor)] = true;
  }
  for (std::size_t i = 0; i < sums.size(); ++i)
    if (seen[i]) {
      rate_sums_[i] += sums[i];
      ++rate_samples_[i];
    }
  if (period_start_mono_ns_ < 0) period_start_mono_ns_ = view.now_mono_ns;
  const auto period_ns = static_cast<std::int64_t>(settings_.rates_interval_s * 1e9);
  if (view.now_mono_ns - period_start_mono_ns_ < period_ns) return;
  std::array<std::optional<double>, kRateSensors.size()> means;
  bool any = false;
  for (std::size_t i = 0; i < means.size(); ++i)
    if (rate_samples_[i] > 0) {
      means[i] = rate_sums_[i] / rate_samples_[i];
      any = true;
    }
  rate_sums_ = {};
  rate_samples_ = {};
  period_start_mono_ns_ = view.now_mono_ns;
  if (!any) return;  // the first samples have no rate yet
  std::string payload = rates_payload(means);
  // Unchanged means (a quiet night) are not sent again: the retained value already says so.
  if (payload == last_rates_payload_) return;
  last_rates_payload_ = payload;
  enqueue(settings_.id.rates, std::move(payload), true);
}

void MqttOutput::connect(const std::string& address, std::int64_t now_mono_ns) {
  refusal_.reset();
  client_.reset(mosquitto_new(settings_.id.client_id.c_str(), true, this));
  if (!client_) {
    lost(MqttTrouble::kUnreachable, fmt::format("cannot make a client: {}", std::strerror(errno)), now_mono_ns);
    return;
  }
  mosquitto* c = client_.get();
  mosquitto_connect_callback_set(c, [](mosquitto*, void* me, int rc) {
    if (rc == 0)
      self(me)->connected();
    else
      self(me)->refused(rc);
  });
  mosquitto_publish_callback_set(c, [](mosquitto*, void* me, int mid) { self(me)->acknowledged(mid); });
  const std::string& availability = settings_.id.availability;
  int rc = mosquitto_will_set(c, availability.c_str(), static_cast<int>(kOffline.size()), kOffline.data(), 1, true);
  if (rc == MOSQ_ERR_SUCCESS && !settings_.user.empty())
    rc = mosquitto_username_pw_set(c, settings_.user.c_str(),
                                   settings_.password.empty() ? nullptr : settings_.password.c_str());
  if (rc == MOSQ_ERR_SUCCESS) {
    errno = 0;
    rc = mosquitto_connect_async(c, address.c_str(), settings_.broker.port, kKeepalive_s);
  }
  if (rc != MOSQ_ERR_SUCCESS) {
    const int saved = errno;
    lost(MqttTrouble::kUnreachable, fmt::format("cannot connect: {}", error_text(rc, saved)), now_mono_ns);
    return;
  }
  link_ = Link::kConnecting;
  // While retrying after a failure the status keeps naming that failure: a reader polling between
  // attempts wants to see "refused", not the attempt that is about to be refused again.
  if (!trouble_.active()) status_.state = "connecting";
  connect_deadline_mono_ns_ = now_mono_ns + kConnectTimeout_ns;
  next_misc_mono_ns_ = now_mono_ns + kMiscInterval_ns;
}

void MqttOutput::connected() {
  link_ = Link::kUp;
  failures_ = 0;
  status_.state = "connected";
  status_.detail.clear();
  if (trouble_.clear() && log_)
    log_(io::Severity::kInfo, fmt::format("mqtt: connected to {} again; sending {} queued message(s)", settings_.url,
                                          queue_.size()));
  else if (status_.last_success_wall_ns == 0 && log_)
    log_(io::Severity::kInfo, fmt::format("mqtt: connected to {}", settings_.url));
  // Discovery and availability are sent at every connection, outside the queue: they are the
  // same each time and a broker that lost its retained messages gets them back.
  std::vector<Message> first;
  if (settings_.discovery) first = discovery_messages(settings_.id, CTMON_VERSION);
  first.push_back({settings_.id.availability, std::string(kOnline)});
  for (const auto& [topic, payload] : current_)
    if (std::none_of(queue_.begin(), queue_.end(), [&](const Queued& q) { return q.message.topic == topic; }))
      first.push_back({topic, payload});
  for (const Message& m : first) {
    const int rc = mosquitto_publish(client_.get(), nullptr, m.topic.c_str(), static_cast<int>(m.payload.size()),
                                     m.payload.data(), 1, true);
    if (rc != MOSQ_ERR_SUCCESS) return;  // the connection failed; pump() notices
  }
  for (Queued& q : queue_) q.mid = 0;
  send_queued();
}

void MqttOutput::send_queued() {
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (it->mid != 0) {
      ++it;
      continue;
    }
    int mid = 0;
    const int rc = mosquitto_publish(client_.get(), &mid, it->message.topic.c_str(),
                                     static_cast<int>(it->message.payload.size()), it->message.payload.data(), 1, true);
    if (rc == MOSQ_ERR_SUCCESS) {
      it->mid = mid;
      ++it;
    } else if (rc == MOSQ_ERR_PAYLOAD_SIZE || rc == MOSQ_ERR_MALFORMED_UTF8 || rc == MOSQ_ERR_INVAL) {
      // Never sendable: say so and go on with the rest.
      ++status_.failed;
      status_.last_error_wall_ns = now_wall_ns();
      if (log_)
        log_(io::Severity::kWarning, fmt::format("mqtt: cannot publish to {}: {}; the message is dropped",
                                                 it->message.topic, mosquitto_strerror(rc)));
      it = queue_.erase(it);
    } else {
      return;  // the connection failed; pump() notices
    }
  }
}

void MqttOutput::acknowledged(int mid) {
  ++status_.delivered;
  status_.last_success_wall_ns = now_wall_ns();
  const auto it = std::find_if(queue_.begin(), queue_.end(), [mid](const Queued& q) { return q.mid == mid; });
  if (it != queue_.end()) queue_.erase(it);
}

void MqttOutput::refused(int reason) { refusal_ = reason; }

void MqttOutput::lost(MqttTrouble trouble, const std::string& why, std::int64_t now_mono_ns) {
  const bool was_up = link_ == Link::kUp;
  client_.reset();  // closes the socket without a DISCONNECT: the broker publishes the will
  link_ = Link::kDown;
  for (Queued& q : queue_) q.mid = 0;
  ++failures_;
  if (!was_up) ++status_.failed;
  const std::int64_t delay_ms = influx::backoff_delay_ms(
      failures_, std::uniform_real_distribution<double>(0.0, 1.0)(random_), kBackoffInitial_ms, kBackoffMax_ms);
  retry_at_mono_ns_ = now_mono_ns + ms_to_ns(delay_ms);
  status_.state = trouble == MqttTrouble::kRefused ? "refused" : "disconnected";
  status_.detail = fmt::format("{}: {}", settings_.url, why);
  status_.last_error_wall_ns = now_wall_ns();
  if (trouble_.enter(trouble) && log_) {
    const char* hint = trouble == MqttTrouble::kRefused
                           ? "check mqtt.user, mqtt.password_file and the broker's access rules"
                           : "is the broker running and reachable?";
    log_(io::Severity::kWarning,
         fmt::format("mqtt: {} {}; {}. Retrying with backoff up to {} s; {} message(s) wait; not logged again "
                     "until connected",
                     settings_.url, why, hint, kBackoffMax_ms / 1000, queue_.size()));
  }
}

std::int64_t MqttOutput::want(std::vector<pollfd>& fds, std::int64_t now_mono_ns) {
  if (link_ == Link::kResolving) {
    if (resolver_.fd() >= 0) fds.push_back({resolver_.fd(), POLLIN, 0});
    return io::kNever;
  }
  if (!client_) return retry_at_mono_ns_;
  const int fd = mosquitto_socket(client_.get());
  if (fd >= 0) {
    const auto events = static_cast<short>(POLLIN | (mosquitto_want_write(client_.get()) ? POLLOUT : 0));
    fds.push_back({fd, events, 0});
  }
  if (link_ == Link::kConnecting) return std::min(next_misc_mono_ns_, connect_deadline_mono_ns_);
  // What on_sample() and on_episode() queued is handed to the library in the next pump.
  if (std::any_of(queue_.begin(), queue_.end(), [](const Queued& q) { return q.mid == 0; })) return now_mono_ns;
  return next_misc_mono_ns_;
}

void MqttOutput::pump(std::int64_t now_mono_ns) {
  if (link_ == Link::kDown && now_mono_ns >= retry_at_mono_ns_) {
    link_ = Link::kResolving;
    if (!trouble_.active()) status_.state = "resolving";
    (void)resolver_.start(settings_.broker.host);  // a failure to start is in its answer
  }
  if (link_ == Link::kResolving) {
    const std::optional<Resolver::Answer> answer = resolver_.take();
    if (!answer) return;
    if (answer->address.empty()) {
      lost(MqttTrouble::kUnreachable, fmt::format("cannot look up {}: {}", settings_.broker.host, answer->error),
           now_mono_ns);
      return;
    }
    connect(answer->address, now_mono_ns);
  }
  if (!client_) return;
  mosquitto* c = client_.get();
  if (link_ == Link::kUp) send_queued();
  errno = 0;
  int rc = mosquitto_loop_read(c, 1);
  if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_loop_write(c, 1);
  if (rc == MOSQ_ERR_SUCCESS && now_mono_ns >= next_misc_mono_ns_) {
    rc = mosquitto_loop_misc(c);
    next_misc_mono_ns_ = now_mono_ns + kMiscInterval_ns;
  }
  const int saved = errno;
  if (refusal_) {
    lost(MqttTrouble::kRefused, fmt::format("refused the connection: {}", mosquitto_connack_string(*refusal_)),
         now_mono_ns);
  } else if (rc != MOSQ_ERR_SUCCESS) {
    const bool was_up = link_ == Link::kUp;
    lost(MqttTrouble::kUnreachable,
         fmt::format("{}: {}", was_up ? "lost the connection" : "cannot connect", error_text(rc, saved)), now_mono_ns);
  } else if (link_ == Link::kConnecting && now_mono_ns >= connect_deadline_mono_ns_) {
    lost(MqttTrouble::kUnreachable,
         fmt::format("cannot connect: no answer within {} s", kConnectTimeout_ns / 1'000'000'000), now_mono_ns);
  }
}

void MqttOutput::report(status::DaemonStatus& status) const {
  status::NotifierStatus s = status_;
  s.queued = queue_.size();
  status.notifiers.push_back(std::move(s));
}

std::unique_ptr<MqttOutput> make_output(const Config& config, io::LogSink log) {
  if (config.mqtt.url.empty()) return nullptr;
  static std::once_flag library;
  std::call_once(library, [] { mosquitto_lib_init(); });
  MqttSettings s;
  s.url = config.mqtt.url;
  s.broker = parse_mqtt_url(config.mqtt.url);
  s.id = make_identity(config.mqtt, host_name(config));
  s.user = config.mqtt.user;
  if (!config.mqtt.password_file.empty()) {
    s.password = read_password(config.mqtt.password_file);
    struct stat st {};
    if (::stat(config.mqtt.password_file.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0 && log)
      log(io::Severity::kWarning,
          fmt::format("mqtt: the password file '{}' can be read by every user of this machine (mode {:04o}); chmod "
                      "o-rwx '{}'",
                      config.mqtt.password_file, st.st_mode & 07777, config.mqtt.password_file));
  }
  s.discovery = config.mqtt.discovery;
  s.rates_interval_s = config.mqtt.rates_interval_s;
  for (const std::string* topic : {&s.id.base, &s.id.discovery_prefix})
    if (mosquitto_pub_topic_check2(topic->c_str(), topic->size()) != MOSQ_ERR_SUCCESS ||
        mosquitto_validate_utf8(topic->c_str(), static_cast<int>(topic->size())) != MOSQ_ERR_SUCCESS)
      throw UserError(fmt::format("the MQTT topic '{}' is not valid (it must be UTF-8 without '+' or '#'): check "
                                  "mqtt.base_topic and mqtt.discovery_prefix",
                                  *topic));
  if (mosquitto_validate_utf8(s.id.client_id.c_str(), static_cast<int>(s.id.client_id.size())) != MOSQ_ERR_SUCCESS)
    throw UserError(fmt::format("mqtt.client_id '{}' is not valid UTF-8", s.id.client_id));
  return std::make_unique<MqttOutput>(std::move(s), std::move(log));
}

}  // namespace ctmon::mqtt
