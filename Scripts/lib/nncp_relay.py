#!/usr/bin/env python3
"""NNCP relay benchmark: the same job as LienThong's relay benchmark, done by NNCP 8.x.

Measures the wall-clock time to move N files of BYTES random bytes from `province` to
`commune` through the relay `district` (province -> district -> commune), online over real
TCP on 127.0.0.1, with three NNCP nodes on this machine, each with its own config and spool.
Province reaches commune `via` district, so district receives transitional packets, tosses
them (decrypts its layer) and re-queues the inner packets for commune: a tree relay.

The clock starts before the first `nncp-file` (encrypting and queueing is part of the job)
and stops when all N files are in commune's incoming directory (NNCP writes each one to a
temporary file, fsyncs, renames and fsyncs the directory, so a file under its final name is
complete and durable). The files are then compared with the sent ones by SHA-256.

Modes:
  sequential (default; the store-and-forward cycle): queue all files, `nncp-call district`
    from province, then `nncp-call commune` from district (the daemons run -autotoss), calls
    repeated until everything has arrived. Each call ends 1 s after its queue is idle
    (-onlinedeadline 1, NNCP's minimum), which is on the critical path twice.
  pipelined: both links are held open before the clock starts (province calls district,
    district calls commune), so queueing, relaying and delivery overlap like always-on daemons.

Durability: NNCP fsyncs packets and tossed files by default. NNCPNOSYNC is deliberately NOT
set (and removed from the environment) because LienThong fsyncs at every hop too.

Usage: nncp_relay.py --count N --size BYTES [--runs R] [--workdir DIR] [--mode M] [--keep]
Prints one JSON line on stdout (the median run; plus "mode" and "queue_seconds", the part of
each run spent in nncp-file); progress and a per-run breakdown go to stderr.
"""
import argparse, hashlib, json, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time
from ports import free_base

NODES = ("province", "district", "commune")
PKT_RE = re.compile(r"^[A-Z2-7]{52}$")  # spool packet names (base32 hashes)
KEYS = ("id", "exchpub", "exchprv", "signpub", "signprv", "noisepub", "noiseprv")
NNCP_ENV = ("NNCPNOSYNC", "NNCPCFG", "NNCPSPOOL", "NNCPLOG", "NNCPDEADLINE")


def log(msg):
    print(f"[nncp-relay] {msg}", file=sys.stderr, flush=True)


def fail(msg):
    raise SystemExit(f"nncp_relay: error: {msg}")


class Runner:
    """Starts NNCP commands with a clean environment and kills every background one at the end."""

    def __init__(self):
        self.env = {k: v for k, v in os.environ.items() if k not in NNCP_ENV}
        self.bg = []

    def run(self, args, logf, check=True):
        with open(logf, "ab") as err:
            p = subprocess.run(args, env=self.env, stdout=err, stderr=err, stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            fail(f"{' '.join(args)} exited {p.returncode} (see {logf})")
        return p.returncode

    def start(self, args, logf):
        with open(logf, "ab") as err:
            p = subprocess.Popen(args, env=self.env, stdout=err, stderr=err,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
        self.bg.append(p)
        return p

    def stop_all(self):
        for p in self.bg:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in self.bg:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.bg = []


def new_keys(r):
    out = subprocess.run(["nncp-cfgnew", "-nocomments"], env=r.env, capture_output=True, text=True, check=True).stdout
    keys = {}
    for k in KEYS:
        m = re.search(rf"^\s*{k}:\s*(\S+)\s*$", out, re.M)
        if not m:
            fail(f"nncp-cfgnew output lacks {k}")
        keys[k] = m.group(1)
    return keys


def make_nodes(r, base):
    """Three fresh nodes with configs (JSON, which Hjson accepts); returns {name: info}."""
    nodes = {}
    first = free_base(len(NODES))  # outside the ephemeral range (Scripts/lib/ports.py)
    for i, n in enumerate(NODES):
        d = os.path.join(base, n)
        os.makedirs(os.path.join(d, "incoming"))
        os.makedirs(os.path.join(d, "spool"))  # nncp-file fails if the spool does not exist
        nodes[n] = {"dir": d, "cfg": os.path.join(d, "nncp.hjson"), "keys": new_keys(r),
                    "port": first + i, "spool": os.path.join(d, "spool"),
                    "incoming": os.path.join(d, "incoming")}
    pub = lambda n, *extra: {k: nodes[n]["keys"][k] for k in ("id", "exchpub", "signpub") + extra}
    # Daemon side keeps links open for an hour; callers choose their own -onlinedeadline.
    online = lambda n: dict(pub(n, "noisepub"), addrs={"lo": f"127.0.0.1:{nodes[n]['port']}"},
                            onlinedeadline=3600)
    neigh = {
        "province": {"district": online("district"),
                     "commune": dict(pub("commune"), via=["district"])},
        "district": {"province": online("province"), "commune": online("commune")},
        "commune": {"district": dict(online("district"), incoming=nodes["commune"]["incoming"]),
                    # files from province are accepted into commune's incoming
                    "province": dict(pub("province"), via=["district"],
                                     incoming=nodes["commune"]["incoming"])},
    }
    for n in NODES:
        k = nodes[n]["keys"]
        cfg = {"spool": nodes[n]["spool"], "log": os.path.join(nodes[n]["dir"], "log"),
               "noprogress": True, "self": k,
               "neigh": dict(self=pub(n, "noisepub"), **neigh[n])}
        with open(nodes[n]["cfg"], "w") as f:
            json.dump(cfg, f, indent=1)
    return nodes


def wait_listening(port, proc, logf, timeout=10):
    """Waits until the daemon accepts TCP (the probe shows up as an EOF error in its log)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            fail(f"nncp-daemon on port {port} exited {proc.returncode} (see {logf})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    fail(f"nncp-daemon did not listen on 127.0.0.1:{port}")


def pending(node, peer, xx):
    """Packets waiting in node's spool for/from peer (xx = 'tx' or 'rx')."""
    d = os.path.join(node["spool"], peer["keys"]["id"], xx)
    try:
        return sum(1 for f in os.listdir(d) if PKT_RE.match(f))
    except FileNotFoundError:
        return 0


def arrived(commune, names):
    try:
        present = set(os.listdir(commune["incoming"]))
    except FileNotFoundError:
        return 0
    return sum(1 for n in names if n in present)


def call(r, nodes, src, dst, deadline, logf, background=False, maxtime=0):
    args = ["nncp-call", "-cfg", nodes[src]["cfg"], "-quiet", "-autotoss",
            "-onlinedeadline", str(deadline)]
    if maxtime:
        args += ["-maxonlinetime", str(maxtime)]
    args.append(dst)
    # nncp-call -autotoss exits 1 even after a successful toss (8.8.2), so its code is not checked.
    return r.start(args, logf) if background else r.run(args, logf, check=False)


def one_run(r, base, count, size, mode, timeout):
    nodes = make_nodes(r, base)
    P, D, C = (nodes[n] for n in NODES)
    logf = os.path.join(base, "nncp.stderr")
    for n in ("district", "commune"):
        p = r.start(["nncp-daemon", "-cfg", nodes[n]["cfg"], "-quiet", "-autotoss",
                     "-bind", f"127.0.0.1:{nodes[n]['port']}"], logf)
        wait_listening(nodes[n]["port"], p, logf)
    src = os.path.join(base, "src")
    os.makedirs(src)
    names, digests = [f"doc-{i:06d}.bin" for i in range(count)], {}
    for n in names:
        data = os.urandom(size)
        digests[n] = hashlib.sha256(data).hexdigest()
        with open(os.path.join(src, n), "wb") as f:
            f.write(data)
    if mode == "pipelined":  # links up before the clock, as between always-on daemons
        call(r, nodes, "province", "district", 3600, logf, True, timeout)
        call(r, nodes, "district", "commune", 3600, logf, True, timeout)
        time.sleep(1.5)

    t0 = time.monotonic()
    end = t0 + timeout
    for n in names:
        r.run(["nncp-file", "-cfg", P["cfg"], "-quiet", os.path.join(src, n), f"commune:{n}"], logf)
    t_queued = time.monotonic()
    log(f"queued {count} files in {t_queued - t0:.3f} s")
    if mode == "sequential":
        while pending(P, D, "tx") and time.monotonic() < end:
            if call(r, nodes, "province", "district", 1, logf) and pending(P, D, "tx"):
                time.sleep(0.1)  # refused (the daemon may still hold the last session's lock)
        log(f"province -> district done at {time.monotonic() - t0:.3f} s")
    while arrived(C, names) < count:
        if time.monotonic() > end:
            fail(f"timeout after {timeout} s: {arrived(C, names)}/{count} files at commune; "
                 f"province tx {pending(P, D, 'tx')}, district rx {pending(D, P, 'rx')}, "
                 f"district tx {pending(D, C, 'tx')}, commune rx {pending(C, D, 'rx')} (see {logf})")
        if mode == "pipelined":
            time.sleep(0.02)  # listing incoming more often would compete for the 2 cores
            continue
        if pending(D, C, "tx"):
            if call(r, nodes, "district", "commune", 1, logf) and pending(D, C, "tx"):
                time.sleep(0.1)
        else:  # a daemon's autotoss may stop with packets left in rx when a call ends: toss them
            time.sleep(0.05)
            for n in ("district", "commune"):
                r.run(["nncp-toss", "-cfg", nodes[n]["cfg"], "-quiet"], logf, check=False)
    t1 = time.monotonic()
    log(f"all {count} files at commune after {t1 - t0:.3f} s (transfer {t1 - t_queued:.3f} s)")
    r.stop_all()
    for n in names:
        with open(os.path.join(C["incoming"], n), "rb") as f:
            h = hashlib.sha256()
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
            if h.hexdigest() != digests[n]:
                fail(f"{n} at commune differs from the file sent")
    extra = set(os.listdir(C["incoming"])) - set(names)
    if extra:
        fail(f"unexpected files in commune incoming: {sorted(extra)[:5]}")
    log(f"verified {count} files byte-identical (SHA-256)")
    return t1 - t0, t_queued - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workdir", help="parent directory for the nodes (default: a new dir under /tmp)")
    ap.add_argument("--mode", choices=("sequential", "pipelined"), default="sequential")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per run before failing")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    if a.count < 1 or a.size < 1 or a.runs < 1:
        fail("--count, --size and --runs must be positive")
    for tool in ("nncp-cfgnew", "nncp-daemon", "nncp-call", "nncp-file", "nncp-toss"):
        if not shutil.which(tool):
            fail(f"{tool} not found; install NNCP with: apt-get install -y nncp")
    if os.environ.get("NNCPNOSYNC"):
        log("NNCPNOSYNC is set in the environment; ignoring it (fsync stays on)")
    version = subprocess.run(["nncp-file", "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    log(f"{version}; {a.count} x {a.size} bytes, {a.runs} run(s), mode {a.mode}")
    if a.workdir:
        os.makedirs(a.workdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="nncp-relay-", dir=a.workdir)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    r, seconds, queued = Runner(), [], []
    try:
        for i in range(a.runs):
            total, q = one_run(r, os.path.join(work, f"run{i + 1}"), a.count, a.size, a.mode, a.timeout)
            seconds.append(total)
            queued.append(q)
            log(f"run {i + 1}/{a.runs}: {seconds[-1]:.3f} s")
            if not a.keep:
                shutil.rmtree(os.path.join(work, f"run{i + 1}"))
    finally:
        r.stop_all()
        if a.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    med = statistics.median(seconds)
    print(json.dumps({"tool": "nncp", "mode": a.mode, "count": a.count, "size": a.size, "runs": a.runs,
                      "seconds": [round(s, 4) for s in seconds], "median_seconds": round(med, 4),
                      "docs_per_s": round(a.count / med, 2),
                      "mb_per_s": round(a.count * a.size / 1e6 / med, 2),
                      # extra: the part of each run spent in nncp-file (encrypt + queue at province)
                      "queue_seconds": [round(q, 4) for q in queued]}))


if __name__ == "__main__":
    main()
