"""Free loopback ports for the demo and the benchmarks.

Bases are picked outside the kernel's ephemeral port range: a port inside it can be taken by any
outgoing connection (a node dialling its parent, a control client) between this check and the
daemon's bind, and that daemon then exits. The check binds with SO_REUSEADDR, as the daemons do,
so sockets of earlier runs still in TIME_WAIT do not count as taken.

    python3 Scripts/lib/ports.py COUNT      prints a base B such that B … B+COUNT-1 are free
"""
import random, socket, sys


def ephemeral_range():
    try:
        lo, hi = open("/proc/sys/net/ipv4/ip_local_port_range").read().split()
        return int(lo), int(hi)
    except (OSError, ValueError):
        return 32768, 60999


def free(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_base(count):
    lo, hi = ephemeral_range()
    spans = [(10000, lo - count), (hi + 1, 65535 - count)]
    spans = [(a, b) for a, b in spans if b >= a]
    if not spans:
        raise RuntimeError("no room for %d ports outside the ephemeral range %d-%d" % (count, lo, hi))
    for _ in range(200):
        a, b = random.choice(spans)
        base = random.randint(a, b)
        if all(free(p) for p in range(base, base + count)):
            return base
    raise RuntimeError("no %d consecutive free ports on 127.0.0.1 outside the ephemeral range %d-%d" % (count, lo, hi))


if __name__ == "__main__":
    print(free_base(int(sys.argv[1])))
