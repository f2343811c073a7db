"""Real traffic for ctmon's netns tests, run inside a namespace with `ip netns exec`.

  serve-tcp PORT            echo server; prints "listening" once ready
  serve-udp PORT            echo server; prints "listening" once ready
  tcp HOST PORT N           N connections, each: send, read the echo, close
  udp HOST PORT N           one flow (one source port): N datagrams, each waits for its echo
  invalid-tcp HOST PORT N [SECONDS]
                            N TCP segments with SYN+FIN set, which conntrack marks invalid; spread
                            evenly over SECONDS when given, else at once
  invalid-udp HOST PORT N   N UDP datagrams with a wrong checksum, which conntrack marks invalid
  syn-scan HOST PPS SECONDS half-open scan: SYNs to ever new ports of HOST (from 1024 up), PPS a
                            second, never answered, as a port scanner sends them
  udp-storm HOST PORT PPS SECONDS
                            a client retrying too fast: each query from a new socket, given up
                            after 20 ms, PPS a second
  household SECONDS SEED WAN_HOST ROUTER_HOST
                            a home network's background for SECONDS (see household())

Every generator that runs for SECONDS paces itself on absolute deadlines, so a loaded machine
delays packets but does not change their number.
"""
import random
import socket
import sys
import threading
import time

# household(): the services it talks to, started by the test.
WAN_TCP_PORT, WAN_DNS_PORT = 8080, 5353
ROUTER_TCP_PORT, ROUTER_DNS_PORT = 8081, 5354


def serve_tcp(port):
    srv = socket.create_server(("0.0.0.0", port), reuse_port=True)
    print("listening", flush=True)
    while True:
        conn, _ = srv.accept()
        # A thread per connection: a long-lived client must not hold up the short ones.
        threading.Thread(target=echo_tcp, args=(conn,), daemon=True).start()


def echo_tcp(conn):
    with conn:
        try:
            while data := conn.recv(4096):
                conn.sendall(data)
        except OSError:
            pass  # reset by a client that gave up


def serve_udp(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("0.0.0.0", port))
    print("listening", flush=True)
    while True:
        data, peer = srv.recvfrom(4096)
        srv.sendto(data, peer)


def tcp(host, port, n):
    for i in range(n):
        with socket.create_connection((host, port), timeout=5) as conn:
            conn.sendall(b"ctmon %d" % i)
            assert conn.recv(4096) == b"ctmon %d" % i
            conn.shutdown(socket.SHUT_WR)
            assert conn.recv(4096) == b""


def udp(host, port, n):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        for i in range(n):
            s.sendto(b"ctmon %d" % i, (host, port))
            assert s.recvfrom(4096)[0] == b"ctmon %d" % i


def paced(pps, seconds):
    """Yields i = 0, 1, ... at i / pps seconds from now, for `seconds`; late ticks are caught up
    at once rather than dropped."""
    print("sending", flush=True)  # after the imports: the caller times the fault from here
    start = time.monotonic()
    for i in range(int(pps * seconds)):
        delay = start + i / pps - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        yield i


def invalid(kind, host, port, n, seconds=None):
    from scapy.all import IP, TCP, UDP, conf, send  # slow to import: only where needed
    if kind == "tcp":
        packet = IP(dst=host) / TCP(sport=40000, dport=port, flags="SF")
    else:
        packet = IP(dst=host) / UDP(sport=40000, dport=port, chksum=0x1234) / b"ctmon"
    if seconds is None:
        send(packet, count=n, verbose=0)
        return
    with conf.L3socket() as s:
        for _ in paced(n / seconds, seconds):
            s.send(packet)


def syn_scan(host, pps, seconds):
    from scapy.all import IP, TCP, conf
    with conf.L3socket() as s:
        for i in paced(pps, seconds):
            s.send(IP(dst=host) / TCP(sport=50000 + i % 10000, dport=1024 + i % 60000, flags="S"))


def udp_storm(host, port, pps, seconds):
    for i in paced(pps, seconds):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.02)
            s.sendto(b"retry %d" % i, (host, port))
            try:
                s.recvfrom(4096)
            except OSError:
                pass


class Household:
    """A home network's background, from a LAN client: short TCP fetches (mostly to the WAN, some
    to the router's own web page), DNS-like UDP queries (each from a new socket, answered; mostly to
    the WAN, some to the router's resolver), and one long TCP flow to the WAN that carries a steady
    trickle. Each kind's rate moves between levels every few seconds (seeded), so the counters
    vary the way a household does, and over a minute every level comes up several times.

    Nothing here may stop on an error: during a fault connections time out, queries go unanswered
    and the long flow is reset, and the client keeps behaving like a client (retries, reconnects)."""

    LEVELS = (0.5, 0.8, 1.0, 1.3, 1.7)

    def __init__(self, seed, wan, router):
        self.rng = random.Random(seed)
        self.wan, self.router = wan, router
        self.lock = threading.Lock()
        self.slots = threading.BoundedSemaphore(64)  # a client has a finite number of sockets

    def level_schedule(self, seconds):
        """[(until_s, level)] covering `seconds`, segments of 3 to 10 s."""
        out, t = [], 0.0
        while t < seconds:
            t += self.rng.uniform(3, 10)
            out.append((t, self.rng.choice(self.LEVELS)))
        return out

    def run(self, seconds):
        self.deadline = time.monotonic() + seconds
        workers = [threading.Thread(target=self.poisson, daemon=True,
                                    args=(3.0, self.level_schedule(seconds), self.fetch, self.rng.random())),
                   threading.Thread(target=self.poisson, daemon=True,
                                    args=(4.0, self.level_schedule(seconds), self.query, self.rng.random())),
                   threading.Thread(target=self.long_flow, daemon=True, args=(self.level_schedule(seconds),))]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    def level_at(self, schedule, started):
        elapsed = time.monotonic() - started
        return next((level for until, level in schedule if elapsed < until), schedule[-1][1])

    def poisson(self, base_rate, schedule, action, seed):
        rng = random.Random(seed)
        started = time.monotonic()
        at = started
        while True:
            at += rng.expovariate(base_rate * self.level_at(schedule, started))
            if at >= self.deadline:
                return
            time.sleep(max(0.0, at - time.monotonic()))
            if self.slots.acquire(blocking=False):
                to_router = rng.random() < 0.15
                threading.Thread(target=self.release_after, args=(action, to_router, rng.randrange(1 << 30)),
                                 daemon=True).start()

    def release_after(self, action, to_router, salt):
        try:
            action(to_router, salt)
        except OSError:
            pass
        finally:
            self.slots.release()

    def fetch(self, to_router, salt):
        host, port = (self.router, ROUTER_TCP_PORT) if to_router else (self.wan, WAN_TCP_PORT)
        body = b"x" * (200 + salt % 1800)
        with socket.create_connection((host, port), timeout=3) as conn:
            conn.sendall(body)
            got = 0
            while got < len(body):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                got += len(chunk)
            conn.shutdown(socket.SHUT_WR)
            conn.recv(4096)

    def query(self, to_router, salt):
        host, port = (self.router, ROUTER_DNS_PORT) if to_router else (self.wan, WAN_DNS_PORT)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(1.0)
            for _ in range(2):  # a stub resolver asks twice before giving up
                s.sendto(b"q%d" % salt, (host, port))
                try:
                    s.recvfrom(4096)
                    return
                except socket.timeout:
                    continue

    def long_flow(self, schedule):
        started = time.monotonic()
        while time.monotonic() < self.deadline:
            try:
                with socket.create_connection((self.wan, WAN_TCP_PORT), timeout=3) as conn:
                    conn.settimeout(3)
                    drain = threading.Thread(target=self.drain, args=(conn,), daemon=True)
                    drain.start()
                    while time.monotonic() < self.deadline:
                        conn.sendall(b"s" * 300)
                        time.sleep(0.1 / self.level_at(schedule, started))
            except OSError:
                time.sleep(1.0)  # reconnect, as a streaming client does

    @staticmethod
    def drain(conn):
        while True:
            try:
                if not conn.recv(65536):
                    return
            except socket.timeout:
                continue  # a stall, not the end: the sender decides when to give up
            except OSError:
                return


def main(argv):
    cmd, *args = argv
    if cmd == "serve-tcp":
        serve_tcp(int(args[0]))
    elif cmd == "serve-udp":
        serve_udp(int(args[0]))
    elif cmd in ("tcp", "udp"):
        (tcp if cmd == "tcp" else udp)(args[0], int(args[1]), int(args[2]))
    elif cmd in ("invalid-tcp", "invalid-udp"):
        invalid(cmd.split("-")[1], args[0], int(args[1]), int(args[2]),
                float(args[3]) if len(args) > 3 else None)
    elif cmd == "syn-scan":
        syn_scan(args[0], float(args[1]), float(args[2]))
    elif cmd == "udp-storm":
        udp_storm(args[0], int(args[1]), float(args[2]), float(args[3]))
    elif cmd == "household":
        Household(int(args[1]), args[2], args[3]).run(float(args[0]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
