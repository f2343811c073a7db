#pragma once
// Looks up the broker's host name without blocking the daemon's loop.
//
// Why a thread: getaddrinfo() has no non-blocking form in glibc or musl, and a resolver that
// gets no answer (the WAN is down, which is when ctmon matters most, and the name is not local)
// waits its full timeout, seconds per attempt. libmosquitto would call it inside
// mosquitto_connect_async, on the sampling thread. So the lookup runs on a thread of its own,
// one lookup at a time, touching nothing but its own result, and the answer wakes the loop
// through a pipe it polls. The thread is detached: a lookup still waiting when the daemon stops
// does not delay the stop (its state is shared, so it outlives the Resolver safely).
// An address (IPv4 or IPv6) needs no lookup and starts no thread.

#include <memory>
#include <optional>
#include <string>

namespace ctmon::mqtt {

class Resolver {
 public:
  /// The answer: an address in numeric form, or why there is none.
  struct Answer {
    std::string address;  ///< empty when the lookup failed
    std::string error;    ///< gai_strerror's text when it failed
  };

  Resolver() = default;
  ~Resolver() = default;
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  /// Begins looking up `host` (a new lookup replaces the answer of the last one). A numeric
  /// address is the answer at once. Returns false when no thread could be started (the answer
  /// then says why).
  bool start(const std::string& host);

  /// The descriptor that becomes readable when the answer is ready; -1 when none is pending.
  [[nodiscard]] int fd() const;

  /// The answer, once ready (then the lookup is over); nothing while it runs.
  [[nodiscard]] std::optional<Answer> take();

 private:
  struct Lookup;
  std::shared_ptr<Lookup> lookup_;
  std::optional<Answer> ready_;  // answered without a thread
};

}  // namespace ctmon::mqtt
