"""LienThong benchmark suite (issue 6): real lienthongd processes on 127.0.0.1, driven through their
control sockets, measured side by side with NNCP where the issue asks for it.

    python3 Scripts/lib/bench.py [--runs N] [--only a,b,c,d,e,f,g,h,i,j] [--views N] [--bin .build/release] [--no-nncp]

a  relay small: 1,000 x 4 KiB province -> district -> commune, send to all in the inbox (+ NNCP)
b  relay large: 5 x 20 MiB the same way (+ NNCP)
c  resume: 5 x 20 MiB over a commune link cut every 2 s: link bytes / payload, time vs uncut
d  broadcast: bytes leaving the hub to the districts for one directive to 151 communes / envelope
e  urgent latency: a Hoa toc 4 KiB document while 200 MiB of bulk occupies the path, vs idle
f  memory: district relay peak RSS over 5 x 50 MiB; idle RSS per node; 167-node network total
g  scale: 167 daemons started -> all links up; directive to all 151 communes on good links
h  reorganisation: on the running 167-node network the hub publishes version 2 (districts retired
   into the hub, every commune under it): time until every node has it and every commune's link is
   with the hub; then the directive to all 151 on the flat tree (the hub's 151 direct children):
   time for all 151 receipts, the hub's CPU seconds and peak RSS meanwhile
i  operator views at scale: --views N (100,000) small documents queued at the province for a
   stopped district, then delivered: `queue list --json` with N queued, `inbox list --json --limit N`
   through the control socket, `track --json --limit N` (every sent document): wall time each, complete
j  fan-out from cold: the flat tree (Hoa Binh without its districts: the hub's 151 communes and the
   provincial bodies as its direct children) provisioned and started: time until every link is up,
   then the directive to all 151 and every 01 back; the hub's CPU seconds and peak RSS in each phase

Each figure is a median over --runs runs (default 3) unless noted, printed with what produced it.
"""
import argparse, json, os, shutil, socket, statistics, subprocess, sys, tempfile, time
from ports import free_base

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HUB, D1, C11 = "000.00.00.H27", "000.01.00.H27", "000.01.01.H27"
SETTINGS = {"reconnectBaseMs": 200, "reconnectCapMs": 2000, "queuePollMs": 50, "janitorIntervalMs": 1000,
            "keepaliveMs": 3000, "idleTimeoutMs": 15000, "retryBaseMs": 1000}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Net:
    """A provisioned network in a temp dir; some commune links optionally behind lienthong-flaky."""

    def __init__(self, bin_dir, topology="Topology/small.json", flaky=None):
        self.bin = bin_dir
        self.dir = tempfile.mkdtemp(prefix="lt-bench-")
        self.procs = {}
        self.flaky_proc = None
        self.stats_path = os.path.join(self.dir, "flaky-stats.json")
        base = free_base(2000)
        self.cli("topology", "provision", os.path.join(ROOT, topology), "--out", self.net, "--base-port", str(base))
        self.topology = json.load(open(os.path.join(self.net, "topology.json")))
        self.by_id = {n["id"]: n for n in self.topology["nodes"]}
        for n in self.topology["nodes"]:
            p = os.path.join(self.net, n["id"], "node.json")
            c = json.load(open(p))
            c["settings"] = SETTINGS
            json.dump(c, open(p, "w"))
        if flaky:  # {commune id: faults}
            links = []
            for i, (c, faults) in enumerate(sorted(flaky.items())):
                parent = self.by_id[self.by_id[c]["parents"][0]]
                host, port = parent["endpoint"].rsplit(":", 1)
                links.append({"name": c, "listenPort": base + 1000 + i, "upstreamHost": host, "upstreamPort": int(port), "faults": faults})
                own = json.load(open(os.path.join(self.net, "topology.json")))
                for n in own["nodes"]:
                    if n["id"] == parent["id"]:
                        n["endpoint"] = "127.0.0.1:%d" % (base + 1000 + i)
                unsigned = os.path.join(self.dir, "own-%s.json" % c)
                json.dump(own, open(unsigned, "w"), ensure_ascii=False)
                # The commune's copy, pointing at its flaky link, signed by the network's authority.
                self.cli("topology", "sign", unsigned, "--authority", os.path.join(self.net, "authority"),
                         "--version", "1", "--out", os.path.join(self.net, c, "topology.json"))
            json.dump({"seed": 7, "links": links}, open(os.path.join(self.dir, "flaky.json"), "w"))
            self.flaky_proc = subprocess.Popen([os.path.join(bin_dir, "lienthong-flaky"), os.path.join(self.dir, "flaky.json"),
                                                "--stats", self.stats_path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @property
    def net(self):
        return os.path.join(self.dir, "net")

    def home(self, n):
        return os.path.join(self.net, n)

    def cli(self, *args):
        return subprocess.run([os.path.join(self.bin, "lienthong"), *args], check=True, capture_output=True, text=True).stdout

    def start(self, nodes):
        for n in nodes:
            self.procs[n] = subprocess.Popen([os.path.join(self.bin, "lienthongd"), "--home", self.home(n), "--log-level", "warning"],
                                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, n + ".log"), "w"))
        for n in nodes:
            deadline = time.time() + 60
            while not os.path.exists(os.path.join(self.home(n), "control.sock")):
                if time.time() > deadline:
                    raise RuntimeError(n + " did not start")
                time.sleep(0.05)

    def control(self, node, request):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(300)
        s.connect(os.path.join(self.home(node), "control.sock"))
        s.sendall((json.dumps({"v": 2, "request": request}) + "\n").encode())
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            data += chunk
        s.close()
        r = json.loads(data)
        if not r["ok"]:
            raise RuntimeError("%s: %s" % (node, r["error"]))
        (kind, value), = r["result"].items()
        return value

    def send(self, frm, to, files, each=False, urgency="thuong", subject="Benchmark"):
        req = {"to": to, "urgency": urgency, "expiresInMs": 86400000, "subject": subject, "secrecy": "Thường", "files": files}
        if each:
            req["eachFile"] = True
        return self.control(frm, {"send": req})

    def inbox_count(self, node):
        return self.control(node, {"status": {}})["inboxDocuments"]

    def peers(self, node):
        return self.control(node, {"peers": {}})

    def wait(self, what, cond, timeout=300, step=0.02):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if cond():
                return
            time.sleep(step)
        raise RuntimeError("timed out: " + what)

    def rss(self, node, field="VmRSS"):
        for line in open("/proc/%d/status" % self.procs[node].pid):
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        return 0

    def flaky_stats(self):
        return json.load(open(self.stats_path)) if os.path.exists(self.stats_path) else {}

    def files(self, count, size):
        d = tempfile.mkdtemp(dir=self.dir)
        out = []
        for i in range(count):
            p = os.path.join(d, "doc-%05d.bin" % i)
            with open(p, "wb") as f:
                f.write(os.urandom(size))
            out.append(p)
        return out

    def close(self):
        for p in self.procs.values():
            p.terminate()
        for p in self.procs.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        if self.flaky_proc:
            self.flaky_proc.terminate()
            self.flaky_proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def relay(bin_dir, count, size, each):
    """Seconds from send at the province to all `count` documents in the commune's inbox."""
    net = Net(bin_dir)
    try:
        net.start([HUB, D1, C11])
        net.wait("links up", lambda: all(p["connected"] for p in net.peers(D1) if p["peer"] in (HUB, C11)))
        files = net.files(count, size)
        t0 = time.time()
        if each:
            net.send(HUB, [C11], files, each=True)
        else:
            for f in files:
                net.send(HUB, [C11], [f])
        net.wait("all in the inbox", lambda: net.inbox_count(C11) >= count)
        return time.time() - t0
    finally:
        net.close()


def nncp(count, size, runs):
    out = subprocess.run([sys.executable, os.path.join(ROOT, "Scripts/lib/nncp_relay.py"), "--count", str(count), "--size", str(size),
                          "--runs", str(runs)], capture_output=True, text=True)
    if out.returncode != 0:
        log(out.stderr[-2000:])
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_a(args):
    secs = [relay(args.bin, 1000, 4096, each=True) for _ in range(args.runs)]
    rate = 1000 / statistics.median(secs)
    print("a. relay small: 1,000 x 4 KiB province -> district -> commune, durable at every hop, send -> all in the inbox")
    print("   lienthong: %.0f documents/s (median of %d: %s s; sent as one batch: `lienthong send --each-file`)" % (rate, args.runs, ", ".join("%.2f" % s for s in secs)))
    if not args.no_nncp:
        n = nncp(1000, 4096, args.runs)
        if n:
            print("   nncp 8.8.2: %.0f documents/s (median of %d: %s s) -> lienthong/nncp = %.1fx" % (n["docs_per_s"], args.runs, ", ".join("%.2f" % s for s in n["seconds"]), rate / n["docs_per_s"]))
    return {"docs_per_s": rate}


def bench_b(args):
    secs = [relay(args.bin, 5, 20 << 20, each=False) for _ in range(args.runs)]
    rate = 5 * (20 << 20) / 1e6 / statistics.median(secs)
    print("b. relay large: 5 x 20 MiB province -> district -> commune")
    print("   lienthong: %.0f MB/s (median of %d: %s s)" % (rate, args.runs, ", ".join("%.2f" % s for s in secs)))
    if not args.no_nncp:
        n = nncp(5, 20 << 20, args.runs)
        if n:
            print("   nncp 8.8.2: %.0f MB/s (median of %d: %s s) -> lienthong/nncp = %.1fx" % (n["mb_per_s"], args.runs, ", ".join("%.2f" % s for s in n["seconds"]), rate / n["mb_per_s"]))
    return {"mb_per_s": rate}


def resume_run(bin_dir, faults):
    net = Net(bin_dir, flaky={C11: faults})
    try:
        net.start([HUB, D1, C11])
        files = net.files(5, 20 << 20)
        before = net.flaky_stats().get(C11, {}).get("bytesDown", 0)
        t0 = time.time()
        for f in files:
            net.send(HUB, [C11], [f])
        net.wait("all five in the inbox", lambda: net.inbox_count(C11) >= 5, step=0.1)
        seconds = time.time() - t0
        time.sleep(1.1)  # the harness writes its counters twice a second
        stats = net.flaky_stats()[C11]
        return seconds, (stats["bytesDown"] - before) / (5 * (20 << 20)), stats["cuts"]
    finally:
        net.close()


def bench_c(args):
    # Capped at 10 MB/s so that the transfer spans several cuts (uncapped it takes ~2 s).
    cut = [resume_run(args.bin, {"cutEveryMs": [2000, 2000], "reset": True, "bytesPerSecond": 10_000_000}) for _ in range(args.runs)]
    clean = [resume_run(args.bin, {"bytesPerSecond": 10_000_000}) for _ in range(args.runs)]
    ratio = statistics.median(c[1] for c in cut)
    t_cut, t_clean = statistics.median(c[0] for c in cut), statistics.median(c[0] for c in clean)
    print("c. resume: 5 x 20 MiB over a commune link (10 MB/s) reset every 2 s, vs the same link uncut")
    print("   bytes on the link / payload bytes: %.4f (median of %d; cuts per run: %s); uncut: %.4f" % (ratio, args.runs, ", ".join(str(c[2]) for c in cut), statistics.median(c[1] for c in clean)))
    print("   time: %.1f s cut vs %.1f s uncut (%.2fx)" % (t_cut, t_clean, t_cut / t_clean))
    return {"ratio": ratio, "time_ratio": t_cut / t_clean}


def full_network(args, measure_memory=False, reorganise=False):
    """d, f (network part) and g: the 167-node tree, all links good."""
    net = Net(args.bin, topology="Topology/hoa-binh.json")
    result = {}
    try:
        nodes = [n["id"] for n in net.topology["nodes"]]
        parents = [n for n in nodes if any(m["parents"] and m["parents"][0] == n for m in net.topology["nodes"])]
        t0 = time.time()
        net.start(nodes)
        net.wait("all links up", lambda: all(all(p["connected"] for p in net.peers(n) if p["role"] == "child") for n in parents), step=0.2)
        result["links_up_s"] = time.time() - t0
        sender = "000.00.01.H27"
        communes = [n["id"] for n in net.topology["nodes"] if n["level"] == "commune"]
        districts = [n["id"] for n in net.topology["nodes"] if n["level"] == "district"]
        before = {p["peer"]: p for p in net.peers(HUB)}
        directive = os.path.join(ROOT, "Scripts/demo-data/chi-thi-21-CT-TU.txt")
        t1 = time.time()
        sent = net.send(sender, communes, [directive], urgency="khan", subject="Chỉ thị 21-CT/TU")
        def arrived():
            t = net.control(sender, {"track": {"id": sent["id"]}})
            return sum(1 for e in t["entries"] if e["status"] not in ("00", "undeliverable")) == len(communes)
        net.wait("all 151 receipts", arrived, step=0.2)
        result["directive_s"] = time.time() - t1
        time.sleep(1)
        after = {p["peer"]: p for p in net.peers(HUB)}
        out = sum(after[d]["bytesOut"] - before[d]["bytesOut"] for d in districts)
        # One envelope as it travels: signed header + chunk table + body (the origin keeps it).
        import sqlite3
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(net.home(sender), "spool.sqlite"), uri=True)
        size, = db.execute("SELECT length(header) + length(chunk_table) + body_size FROM envelope WHERE hex(id) = ?", (sent["id"].upper(),)).fetchone()
        db.close()
        result["broadcast_ratio"], result["hub_out"], result["envelope"] = out / size, out, size
        result["total_rss"] = sum(net.rss(n) for n in nodes)
        result["nodes"] = len(nodes)
        if reorganise:
            result.update(reorganise_network(net, nodes, communes, sender, directive))
    finally:
        net.close()
    return result


def cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def reorganise_network(net, nodes, communes, sender, directive):
    """h: the reorganisation published at the hub of the running network, then the flat fan-out."""
    v2 = dict(net.topology)
    v2["nodes"] = []
    for n in net.topology["nodes"]:
        n = dict(n)
        if n["level"] == "district":
            n["mergedInto"] = HUB
        if n["level"] == "commune":
            n["parents"] = [HUB]
        v2["nodes"].append(n)
    plain, signed = os.path.join(net.dir, "v2.json"), os.path.join(net.dir, "v2.signed.json")
    json.dump(v2, open(plain, "w"), ensure_ascii=False)
    net.cli("topology", "sign", plain, "--authority", os.path.join(net.net, "authority"), "--version", "2", "--out", signed)
    t0 = time.time()
    net.cli("topology", "publish", signed, "--home", net.home(HUB))
    pending = set(nodes)
    def everyone():
        for n in list(pending):
            if net.control(n, {"status": {}}).get("topologyVersion") == 2:
                pending.discard(n)
        return not pending
    net.wait("version 2 everywhere", everyone, step=0.05)
    reach = time.time() - t0
    def relinked():
        up = {p["peer"] for p in net.peers(HUB) if p["connected"]}
        return all(c in up for c in communes)
    net.wait("every commune linked to the hub", relinked, step=0.1)
    relink = time.time() - t0
    hub = net.procs[HUB].pid
    cpu0, t1, peak = cpu_seconds(hub), time.time(), 0
    sent = net.send(sender, communes, [directive], urgency="khan", subject="Chỉ thị 22-CT/TU")
    def arrived():
        nonlocal peak
        peak = max(peak, net.rss(HUB))
        t = net.control(sender, {"track": {"id": sent["id"]}})
        return sum(1 for e in t["entries"] if e["status"] not in ("00", "undeliverable")) == len(communes)
    net.wait("all 151 receipts on the flat tree", arrived, step=0.05)
    flat = time.time() - t1
    return {"reach_s": reach, "relink_s": relink, "flat_directive_s": flat, "hub_cpu_s": cpu_seconds(hub) - cpu0,
            "hub_peak_rss_mib": peak / 2**20, "hub_children": len(communes)}


def bench_d_g(args, reorganise=False):
    r = full_network(args, reorganise=reorganise)
    print("d. broadcast: one directive from Tỉnh ủy to all 151 communes through the hub")
    print("   bytes the hub sent to the 10 districts (framing, pings and receipt ACKs included) / bytes of the envelope: %d / %d = %.2f" % (r["hub_out"], r["envelope"], r["broadcast_ratio"]))
    print("g. scale: %d daemons started -> every parent-child link up: %.1f s; directive to all 151 communes (all 01 receipts back), all links good: %.1f s" % (r["nodes"], r["links_up_s"], r["directive_s"]))
    print("f. memory (network): total RSS of the %d-node network after the directive: %.0f MiB (%.1f MiB per node)" % (r["nodes"], r["total_rss"] / 2**20, r["total_rss"] / 2**20 / r["nodes"]))
    if reorganise:
        print("h. reorganisation: version 2 published at the hub -> in force on all %d nodes: %.2f s; every commune linked to the hub: %.1f s"
              % (r["nodes"], r["reach_s"], r["relink_s"]))
        print("   then the directive to all %d communes as the hub's direct children (all 01 receipts back): %.2f s; hub CPU %.2f s, hub peak RSS %.1f MiB"
              % (r["hub_children"], r["flat_directive_s"], r["hub_cpu_s"], r["hub_peak_rss_mib"]))
    return r


def bench_e(args):
    def latency(net):
        f = net.files(1, 4096)
        before = net.inbox_count(C11)
        t0 = time.time()
        net.send(HUB, [C11], f, urgency="hoa-toc", subject="Hỏa tốc")
        net.wait("urgent arrives", lambda: net.inbox_count(C11) > before, step=0.005)
        return time.time() - t0
    net = Net(args.bin)
    try:
        net.start([HUB, D1, C11])
        net.wait("links up", lambda: all(p["connected"] for p in net.peers(D1) if p["peer"] in (HUB, C11)))
        idle = [latency(net) for _ in range(args.runs)]
        loaded = []
        for _ in range(args.runs):
            bulk = net.files(1, 200 << 20)
            base = net.inbox_count(C11)
            net.send(HUB, [C11], bulk)
            net.wait("bulk on the move", lambda: any(p["bytesIn"] > (1 << 20) for p in net.peers(D1) if p["peer"] == HUB), step=0.01)
            time.sleep(0.3)
            loaded.append(latency(net))
            net.wait("bulk done", lambda: net.inbox_count(C11) >= base + 2, step=0.1)
            os.unlink(bulk[0])
    finally:
        net.close()
    li, ll = statistics.median(idle), statistics.median(loaded)
    print("e. urgent latency: Hỏa tốc 4 KiB province -> commune: %.0f ms idle, %.0f ms while a 200 MiB bulk transfer uses the path (%.2fx; medians of %d)" % (li * 1000, ll * 1000, ll / li, args.runs))
    return {"idle_ms": li * 1000, "loaded_ms": ll * 1000}


def bench_f(args):
    net = Net(args.bin)
    try:
        net.start([HUB, D1, C11])
        net.wait("links up", lambda: all(p["connected"] for p in net.peers(D1) if p["peer"] in (HUB, C11)))
        time.sleep(1)
        idle = statistics.mean(net.rss(n) for n in [HUB, D1, C11])
        files = net.files(5, 50 << 20)
        for f in files:
            net.send(HUB, [C11], [f])
        peak = 0
        deadline = time.time() + 600
        while net.inbox_count(C11) < 5 and time.time() < deadline:
            peak = max(peak, net.rss(D1, "VmHWM"))
            time.sleep(0.1)
        peak = max(peak, net.rss(D1, "VmHWM"))
    finally:
        net.close()
    print("f. memory: district relay peak RSS while relaying 5 x 50 MiB: %.1f MiB; idle RSS per node: %.1f MiB" % (peak / 2**20, idle / 2**20))
    return {"relay_peak_mib": peak / 2**20, "idle_mib": idle / 2**20}


def bench_i(args):
    n = args.views
    net = Net(args.bin)
    lt = os.path.join(args.bin, "lienthong")
    def timed(*cli):
        t0 = time.time()
        out = subprocess.run([lt, *cli], check=True, capture_output=True, text=True).stdout
        return time.time() - t0, json.loads(out)
    try:
        net.start([HUB])
        files = net.files(n, 64)
        for i in range(0, n, 1000):
            net.send(HUB, [D1], files[i:i + 1000], each=True)
        q_s, q = timed("queue", "list", "--json", "--home", net.home(HUB))
        queued = len(q["entries"]) if isinstance(q, dict) else len(q)
        net.start([D1])
        net.wait("all delivered", lambda: net.inbox_count(D1) >= n, timeout=1800, step=0.5)
        i_s, inbox = timed("inbox", "list", "--json", "--limit", str(n), "--home", net.home(D1))
        t_s, sent = timed("track", "--json", "--limit", str(n), "--home", net.home(HUB))
    finally:
        net.close()
    print("i. operator views at scale: queue list --json with %d queued: %.2f s (%d listed); inbox list --json --limit %d: %.2f s (%d listed); track --json: %.2f s (%d listed)"
          % (n, q_s, queued, n, i_s, len(inbox), t_s, len(sent)))
    return {"queue_list_s": q_s, "queue_listed": queued, "inbox_list_s": i_s, "inbox_listed": len(inbox),
            "track_s": t_s, "tracked": len(sent)}


def flat_topology(path):
    """Topology/hoa-binh.json without its districts: every commune a direct child of the hub."""
    t = json.load(open(os.path.join(ROOT, "Topology/hoa-binh.json")))
    t["nodes"] = [dict(n, parents=[HUB]) if n["level"] == "commune" else n
                  for n in t["nodes"] if n["level"] != "district"]
    json.dump(t, open(path, "w"), ensure_ascii=False)
    return path


def bench_j(args):
    runs = []
    for _ in range(args.runs):
        flat = flat_topology(os.path.join(tempfile.mkdtemp(prefix="lt-flat-"), "flat.json"))
        net = Net(args.bin, topology=flat)
        try:
            nodes = [n["id"] for n in net.topology["nodes"]]
            children = [n for n in nodes if n != HUB]
            communes = [n["id"] for n in net.topology["nodes"] if n["level"] == "commune"]
            t0 = time.time()
            net.start(nodes)
            hub, peak = net.procs[HUB].pid, 0
            def linked():
                nonlocal peak
                peak = max(peak, net.rss(HUB))
                up = {p["peer"] for p in net.peers(HUB) if p["connected"]}
                return all(c in up for c in children)
            net.wait("every child linked to the hub", linked, step=0.1)
            up_s, cpu_up, peak_up = time.time() - t0, cpu_seconds(hub), peak
            sender = "000.00.01.H27"
            directive = os.path.join(ROOT, "Scripts/demo-data/chi-thi-21-CT-TU.txt")
            t1, peak = time.time(), 0
            sent = net.send(sender, communes, [directive], urgency="khan", subject="Chỉ thị 21-CT/TU")
            def arrived():
                nonlocal peak
                peak = max(peak, net.rss(HUB))
                t = net.control(sender, {"track": {"id": sent["id"]}})
                return sum(1 for e in t["entries"] if e["status"] not in ("00", "undeliverable")) == len(communes)
            net.wait("all 151 receipts on the flat tree", arrived, step=0.05)
            runs.append({"nodes": len(nodes), "children": len(children), "up_s": up_s, "directive_s": time.time() - t1,
                         "cpu_up_s": cpu_up, "cpu_directive_s": cpu_seconds(hub) - cpu_up,
                         "rss_up_mib": peak_up / 2**20, "rss_directive_mib": peak / 2**20})
        finally:
            net.close()
    m = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print("j. fan-out from cold: the flat tree, %d daemons, the hub with %d direct children (medians of %d)"
          % (m["nodes"], m["children"], len(runs)))
    print("   started -> every link up: %.1f s (%s); hub CPU %.2f s, peak RSS %.1f MiB"
          % (m["up_s"], ", ".join("%.1f" % r["up_s"] for r in runs), m["cpu_up_s"], m["rss_up_mib"]))
    print("   directive to all 151 communes, every 01 back: %.2f s (%s); hub CPU %.2f s, peak RSS %.1f MiB"
          % (m["directive_s"], ", ".join("%.2f" % r["directive_s"] for r in runs), m["cpu_directive_s"],
             m["rss_directive_mib"]))
    return {"median": m, "runs": runs}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="a,b,c,d,e,f,g,h,i,j")
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build/release"))
    ap.add_argument("--no-nncp", action="store_true")
    ap.add_argument("--views", type=int, default=100_000, help="documents for i (operator views at scale)")
    args = ap.parse_args()
    only = set(args.only.split(","))
    print("$ Scripts/bench --runs %d --only %s%s" % (args.runs, args.only, " --no-nncp" if args.no_nncp else ""))
    results = {}
    for key, fn in [("a", bench_a), ("b", bench_b), ("c", bench_c), ("e", bench_e), ("f", bench_f), ("i", bench_i),
                    ("j", bench_j)]:
        if key in only:
            results[key] = fn(args)
            sys.stdout.flush()
    if only & {"d", "g", "h"}:
        results["dg"] = bench_d_g(args, reorganise="h" in only)
    json.dump(results, open(os.path.join(tempfile.gettempdir(), "lienthong-bench-results.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
