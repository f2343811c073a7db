#include "monitor/prometheus/prometheus_output.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <utility>
#include <variant>

#include <fmt/core.h>

#include "monitor/clock.h"
#include "monitor/owned_fd.h"
#include "monitor/user_error.h"

#ifndef CTMON_VERSION
#error "CTMON_VERSION must be defined by the build"
#endif

namespace ctmon::prometheus {
namespace {

std::string bind_problem(int error, const ListenAddress& address) {
  switch (error) {
    case EADDRINUSE:
      return fmt::format("port {} is already in use (another ctmon or exporter?); choose another port",
                         address.port);
    case EACCES:
      return fmt::format("no permission to listen on port {} (ports below 1024 need root or "
                         "CAP_NET_BIND_SERVICE); choose a port from 1024 up, e.g. 9101",
                         address.port);
    case EADDRNOTAVAIL:
      return fmt::format("no interface of this machine has the address {} ('ip address' lists them)",
                         address.host);
    default: return std::strerror(error);
  }
}

// The listening socket, non-blocking. For `:port`, IPv6 with IPv4-mapped addresses accepted too
// (both families on one socket), or plain IPv4 when the kernel has no IPv6.
int listen_on(const ListenAddress& address) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET6;
  if (address.family == ListenAddress::Family::kIpv4) {
    family = AF_INET;
    auto& in = reinterpret_cast<sockaddr_in&>(storage);
    in.sin_family = AF_INET;
    in.sin_port = htons(address.port);
    inet_pton(AF_INET, address.host.c_str(), &in.sin_addr);  // checked by parse_listen_address
    length = sizeof in;
  } else {
    auto& in6 = reinterpret_cast<sockaddr_in6&>(storage);
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(address.port);
    if (address.family == ListenAddress::Family::kIpv6) inet_pton(AF_INET6, address.host.c_str(), &in6.sin6_addr);
    length = sizeof in6;
  }
  const std::string where = fmt::format("prometheus_listen {}", address.text());
  OwnedFd socket(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (socket.get() < 0 && family == AF_INET6 && address.family == ListenAddress::Family::kAny &&
      errno == EAFNOSUPPORT) {
    ListenAddress ipv4 = address;
    ipv4.family = ListenAddress::Family::kIpv4;
    ipv4.host = "0.0.0.0";
    return listen_on(ipv4);
  }
  if (socket.get() < 0) throw UserError(fmt::format("{}: cannot make a socket: {}", where, std::strerror(errno)));
  const int on = 1;
  const int v6_only = address.family == ListenAddress::Family::kIpv6 ? 1 : 0;
  // SO_REUSEADDR: a restart binds again at once although the last scrape's connection lingers
  // in TIME_WAIT; it does not let two listeners share the port.
  setsockopt(socket.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (family == AF_INET6) setsockopt(socket.get(), IPPROTO_IPV6, IPV6_V6ONLY, &v6_only, sizeof v6_only);
  if (bind(socket.get(), reinterpret_cast<const sockaddr*>(&storage), length) != 0)
    throw UserError(fmt::format("{}: {}", where, bind_problem(errno, address)));
  if (listen(socket.get(), static_cast<int>(PrometheusOutput::kMaxConnections)) != 0)
    throw UserError(fmt::format("{}: {}", where, bind_problem(errno, address)));
  return socket.release();
}

std::uint16_t bound_port(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return 0;
  if (storage.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(storage).sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6&>(storage).sin6_port);
}

MHD_Result on_request(void* cls, MHD_Connection* connection, const char* url, const char* method,
                      const char* /*version*/, const char* /*upload_data*/, size_t* /*upload_data_size*/,
                      void** /*request_state*/) {
  return static_cast<MHD_Result>(static_cast<PrometheusOutput*>(cls)->answer(connection, url, method));
}

void on_library_log(void* cls, const char* format, va_list arguments) {
  std::array<char, 256> line{};
  std::vsnprintf(line.data(), line.size(), format, arguments);
  std::string text(line.data());
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  static_cast<PrometheusOutput*>(cls)->library_error(std::move(text));
}

MHD_Result respond(MHD_Connection* connection, unsigned code, std::string_view type, const std::string& body) {
  MHD_Response* response =
      MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return MHD_NO;
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, std::string(type).c_str());
  if (code == MHD_HTTP_METHOD_NOT_ALLOWED) MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
  const MHD_Result queued = MHD_queue_response(connection, code, response);
  MHD_destroy_response(response);
  return queued;
}

}  // namespace

void PrometheusOutput::DaemonDeleter::operator()(MHD_Daemon* daemon) const { MHD_stop_daemon(daemon); }

PrometheusOutput::PrometheusOutput(const ListenAddress& address, StatusSource status, io::LogSink log)
    : status_(std::move(status)), log_(std::move(log)) {
  OwnedFd socket(listen_on(address));
  port_ = bound_port(socket.get());
  state_.listen = address.text();
  if (address.port == 0) state_.listen.replace(state_.listen.rfind(':') + 1, std::string::npos, std::to_string(port_));
  // No internal thread (external polling): MHD_run() from pump(). Epoll where the library has
  // it, so the daemon waits on one descriptor whatever the number of clients.
  unsigned flags = MHD_USE_ERROR_LOG;
  if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES) flags |= MHD_USE_EPOLL;
  MHD_Daemon* daemon = MHD_start_daemon(
      flags, 0, nullptr, nullptr, &on_request, this,
      MHD_OPTION_EXTERNAL_LOGGER, &on_library_log, this,  // first, or the options' own errors go to stderr
      MHD_OPTION_LISTEN_SOCKET, static_cast<MHD_socket>(socket.get()),
      MHD_OPTION_CONNECTION_LIMIT, kMaxConnections,
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, kMaxPerAddress,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, kMemoryLimit,
      MHD_OPTION_CONNECTION_TIMEOUT, kIdleTimeout_s,
      MHD_OPTION_END);
  if (daemon == nullptr)
    throw UserError(fmt::format("prometheus_listen {}: the HTTP server (libmicrohttpd) did not start", address.text()));
  (void)socket.release();  // MHD_stop_daemon closes it
  daemon_.reset(daemon);
  say(io::Severity::kInfo, fmt::format("serving Prometheus metrics on http://{}/metrics", state_.listen));
}

PrometheusOutput::~PrometheusOutput() = default;

void PrometheusOutput::on_sample(const io::SampleView& view) {
  // Copied, not pointed to: the sample is valid during the call only. No allocation once the
  // catalog stops growing.
  totals_ = view.sample.counters;
  if (names_.size() != view.catalog.size()) names_ = view.catalog.names();
}

void PrometheusOutput::on_episode(const Episode& episode, EpisodeChange change, const io::SampleView& view) {
  (void)view;
  const auto kind = static_cast<std::size_t>(episode.kind);
  if (change == EpisodeChange::opened && kind < episodes_.size()) ++episodes_[kind];
}

std::int64_t PrometheusOutput::want(std::vector<pollfd>& fds, std::int64_t now_mono_ns) {
  fd_set read_set, write_set, except_set;
  FD_ZERO(&read_set);
  FD_ZERO(&write_set);
  FD_ZERO(&except_set);
  MHD_socket max = -1;
  if (MHD_get_fdset(daemon_.get(), &read_set, &write_set, &except_set, &max) == MHD_YES)
    for (int fd = 0; fd <= max; ++fd) {
      short events = 0;
      if (FD_ISSET(fd, &read_set)) events |= POLLIN;
      if (FD_ISSET(fd, &write_set)) events |= POLLOUT;
      if (FD_ISSET(fd, &except_set)) events |= POLLPRI;
      if (events != 0) fds.push_back(pollfd{fd, events, 0});
    }
  MHD_UNSIGNED_LONG_LONG timeout_ms = 0;
  if (MHD_get_timeout(daemon_.get(), &timeout_ms) != MHD_YES) return io::kNever;
  return now_mono_ns + static_cast<std::int64_t>(timeout_ms) * 1'000'000;
}

void PrometheusOutput::pump(std::int64_t now_mono_ns) {
  (void)now_mono_ns;
  MHD_run(daemon_.get());
}

int PrometheusOutput::answer(MHD_Connection* connection, std::string_view url, std::string_view method) {
  if (method != MHD_HTTP_METHOD_GET && method != MHD_HTTP_METHOD_HEAD)
    return respond(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                   "only GET and HEAD are served here\n");
  if (url == "/metrics") {
    const std::string body = metrics();
    const MHD_Result queued = respond(connection, MHD_HTTP_OK, kContentType, body);
    if (trouble_.clear()) say(io::Severity::kInfo, "prometheus: answering scrapes again");
    return queued;
  }
  if (url == "/")
    return respond(connection, MHD_HTTP_OK, "text/html; charset=utf-8",
                   "<html><body><a href=\"/metrics\">ctmon metrics</a></body></html>\n");
  return respond(connection, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", "not found; try /metrics\n");
}

std::string PrometheusOutput::metrics() {
  ++state_.scrapes;
  state_.last_scrape_wall_ns = now_wall_ns();
  status::DaemonStatus status = status_();
  status.prometheus = state_;  // this scrape counted, whoever filled the rest
  std::vector<CounterValue> counters;
  counters.reserve(totals_.size());
  for (std::size_t id = 0; id < totals_.size() && id < names_.size(); ++id)
    if (totals_[id].present) counters.push_back({names_[id], totals_[id]});
  return render_metrics({status, counters, episodes_, CTMON_VERSION});
}

void PrometheusOutput::library_error(std::string message) {
  state_.last_error = message;
  state_.last_error_wall_ns = now_wall_ns();
  if (trouble_.enter(message)) say(io::Severity::kWarning, "prometheus: " + message);
}

void PrometheusOutput::say(io::Severity severity, const std::string& line) const {
  if (log_) log_(severity, line);
}

void PrometheusOutput::report(status::DaemonStatus& status) const { status.prometheus = state_; }

std::unique_ptr<PrometheusOutput> make_output(const Config& config, StatusSource status, io::LogSink log) {
  if (config.prometheus_listen.empty()) return nullptr;
  const auto parsed = parse_listen_address(config.prometheus_listen);
  if (const auto* problem = std::get_if<std::string>(&parsed))
    throw UserError(fmt::format("prometheus_listen '{}': {}", config.prometheus_listen, *problem));
  return std::make_unique<PrometheusOutput>(std::get<ListenAddress>(parsed), std::move(status), std::move(log));
}

}  // namespace ctmon::prometheus
