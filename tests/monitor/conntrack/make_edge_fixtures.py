#!/usr/bin/env python3
"""Writes the hand-made fixtures of conntrack_stats_test.cpp, for what this kernel does not send:
older kernels, a missing ctnetlink, a dump split over datagrams, cut and mangled bytes. Each is
built from the messages the kernel did send (the recorded fixtures beside them), changed as
little as the case needs. Run from the repository root: tests/monitor/conntrack/make_edge_fixtures.py
"""
import struct
from pathlib import Path

HERE = Path(__file__).parent / "fixtures"
NLMSG_ERROR, NLMSG_DONE = 2, 3
GET_STATS_CPU, GET_STATS = (1 << 8) | 4, (1 << 8) | 5
EINVAL, EOPNOTSUPP = 22, 95


def attr(kind, value):
    return struct.pack("=HH", 8, kind) + struct.pack("!I", value)


def message(kind, payload, seq=1, flags=0, res_id=0):
    body = struct.pack("=BB", 0, 0) + struct.pack("!H", res_id) + payload  # nfgenmsg: res_id = CPU
    return struct.pack("=IHHII", 16 + len(body), kind, flags, seq, 4242) + body


def error(errno, request_type, seq=1):
    request = struct.pack("=IHHII", 20, request_type, 1, seq, 0) + b"\0\0\0\0"
    body = struct.pack("=i", -errno) + request[:16]
    return struct.pack("=IHHII", 16 + len(body), NLMSG_ERROR, 0x100, seq, 4242) + body


def done(seq=1):
    return struct.pack("=IHHII", 20, NLMSG_DONE, 2, seq, 4242) + b"\0\0\0\0"


def cpu(number, stats, multi=True):
    # stats: {CTA_STATS_* number: value}
    payload = b"".join(attr(k, v) for k, v in sorted(stats.items()))
    return message(GET_STATS_CPU, payload, flags=2 if multi else 0, res_id=number)


def write(name, comment, datagrams):
    lines = [f"# {comment}", "# hand-made by make_edge_fixtures.py"] + [d.hex() for d in datagrams]
    (HERE / name).write_text("\n".join(lines) + "\n")


OLDER = {2: 1, 4: 2, 8: 0, 9: 3, 10: 4, 11: 5, 12: 6, 13: 7}  # no clash_resolve, chain_toolong
write("old_kernel-global.hex", "an older kernel, without CTA_STATS_GLOBAL_MAX_ENTRIES: entries only",
      [message(GET_STATS, attr(1, 1234))])
write("old_kernel-per_cpu.hex", "an older kernel: no CTA_STATS_CLASH_RESOLVE nor CTA_STATS_CHAIN_TOOLONG; 2 CPUs",
      [cpu(0, OLDER) + cpu(1, {k: v * 10 for k, v in OLDER.items()}), done()])
write("no_global-global.hex", "a kernel that answers the global request with no attribute at all",
      [message(GET_STATS, b"")])
write("no_ctnetlink-global.hex", "nf_conntrack_netlink not loaded (and not loadable): nfnetlink answers EINVAL",
      [error(EINVAL, GET_STATS)])
write("not_supported-per_cpu.hex", "EOPNOTSUPP for the per-CPU dump", [error(EOPNOTSUPP, GET_STATS_CPU)])
full = {2: 0, 4: 9, 8: 0, 9: 1, 10: 0xFFFFFFFF, 11: 70000, 12: 2, 13: 3, 14: 4, 15: 5}
write("multi_part-per_cpu.hex", "a dump of 4 CPUs (0, 1, 2 and 7: CPU numbers may have gaps) over three "
      "datagrams, DONE in its own; each reports drop at the u32 maximum (their sum needs 64 bits)",
      [cpu(0, full) + cpu(1, full), cpu(2, full) + cpu(7, full), done()])
good = cpu(0, full)
write("truncated-per_cpu.hex", "a per-CPU datagram cut in the middle of its second message",
      [good + good[: len(good) // 2]])
cut = bytearray(message(GET_STATS, attr(1, 5) + attr(2, 9)))
cut[0] -= 2  # the message ends 2 bytes into the last attribute's value
write("cut_attribute-global.hex", "a global message whose length cuts its last attribute", [bytes(cut)])
wide = message(GET_STATS, struct.pack("=HH", 12, 1) + struct.pack("!Q", 5))
write("wide_attribute-global.hex", "CTA_STATS_GLOBAL_ENTRIES as 8 bytes: not a u32", [wide])
write("garbage-per_cpu.hex", "bytes that are no netlink message",
      [bytes(range(7, 107)), b"\xff" * 16 + b"\x00" * 8])
write("wrong_type-per_cpu.hex", "a reply of another type (the global one) to the per-CPU dump",
      [message(GET_STATS, attr(1, 1))])
