"""Answers ICMP echo requests itself, each after a random delay of 0 to MAX_MS milliseconds, for
a namespace whose kernel ignores them (net.ipv4.icmp_echo_ignore_all=1): the WAN-side
disturbance of the probe tests, since tc netem is not available. Prints "listening" when ready;
runs until killed.

    echo_responder.py MAX_MS
"""
import heapq
import random
import select
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def main():
    max_s = float(sys.argv[1]) / 1000
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    print("listening", flush=True)
    due = []  # (time, n, reply, address)
    n = 0
    while True:
        timeout = max(0.0, due[0][0] - time.monotonic()) if due else None
        ready, _, _ = select.select([sock], [], [], timeout)
        if ready:
            packet, (source, _) = sock.recvfrom(2048)
            header = (packet[0] & 0x0F) * 4
            icmp = packet[header:]
            if len(icmp) >= 8 and icmp[0] == 8:  # echo request
                reply = bytearray(b"\0\0\0\0" + icmp[4:])
                struct.pack_into("!H", reply, 2, checksum(bytes(reply)))
                n += 1
                heapq.heappush(due, (time.monotonic() + random.uniform(0, max_s), n, bytes(reply), source))
        now = time.monotonic()
        while due and due[0][0] <= now:
            _, _, reply, source = heapq.heappop(due)
            sock.sendto(reply, (source, 0))


if __name__ == "__main__":
    main()
