"""Real traffic for ctmon's netns tests, run inside a namespace with `ip netns exec`.

  serve-tcp PORT            echo server; prints "listening" once ready
  serve-udp PORT            echo server; prints "listening" once ready
  tcp HOST PORT N           N connections, each: send, read the echo, close
  udp HOST PORT N           one flow (one source port): N datagrams, each waits for its echo
  invalid-tcp HOST PORT N   N TCP segments with SYN+FIN set, which conntrack marks invalid
  invalid-udp HOST PORT N   N UDP datagrams with a wrong checksum, which conntrack marks invalid
"""
import socket
import sys


def serve_tcp(port):
    srv = socket.create_server(("0.0.0.0", port), reuse_port=True)
    print("listening", flush=True)
    while True:
        conn, _ = srv.accept()
        with conn:
            while data := conn.recv(4096):
                conn.sendall(data)


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


def invalid(kind, host, port, n):
    from scapy.all import IP, TCP, UDP, send  # slow to import: only where needed
    if kind == "tcp":
        packet = IP(dst=host) / TCP(sport=40000, dport=port, flags="SF")
    else:
        packet = IP(dst=host) / UDP(sport=40000, dport=port, chksum=0x1234) / b"ctmon"
    send(packet, count=n, verbose=0)


def main(argv):
    cmd, *args = argv
    if cmd == "serve-tcp":
        serve_tcp(int(args[0]))
    elif cmd == "serve-udp":
        serve_udp(int(args[0]))
    elif cmd in ("tcp", "udp"):
        (tcp if cmd == "tcp" else udp)(args[0], int(args[1]), int(args[2]))
    elif cmd in ("invalid-tcp", "invalid-udp"):
        invalid(cmd.split("-")[1], args[0], int(args[1]), int(args[2]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
