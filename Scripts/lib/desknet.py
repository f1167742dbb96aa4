"""A small real LienThong network for the desk's checks (Scripts/api-check, Scripts/browser-check).

Provisions Topology/small.json with the real `lienthong` binary into a temporary directory, gives
every node's desk its own loopback port, starts real `lienthongd` processes and drives them through
the real CLI. Loopback only.
"""
import json, os, shutil, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROVINCE, DISTRICT, COMMUNE = "000.00.00.H27", "000.01.00.H27", "000.01.01.H27"


class Network:
    def __init__(self, build=os.path.join(ROOT, ".build", "debug")):
        self.bin = build
        self.dir = tempfile.mkdtemp(prefix="lt-desk-")
        self.procs = {}
        base = subprocess.check_output([sys.executable, os.path.join(ROOT, "Scripts/lib/ports.py"), "16"], text=True)
        self.cli("topology", "provision", os.path.join(ROOT, "Topology/small.json"), "--out", self.net,
                 "--base-port", base.strip())
        for node in [n for n in os.listdir(self.net) if n.startswith("0")]:
            path = os.path.join(self.net, node, "node.json")
            with open(path) as f:
                config = json.load(f)
            config["settings"] = {"reconnectBaseMs": 100, "reconnectCapMs": 1000, "janitorIntervalMs": 200,
                                  "queuePollMs": 50, "retryBaseMs": 500, "httpListen": "127.0.0.1:0"}
            with open(path, "w") as f:
                json.dump(config, f)

    @property
    def net(self):
        return os.path.join(self.dir, "net")

    def home(self, node):
        return os.path.join(self.net, node)

    def cli(self, *args, home=None):
        cmd = [os.path.join(self.bin, "lienthong"), *args] + (["--home", self.home(home)] if home else [])
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout

    def start(self, *nodes):
        for node in nodes:
            log = open(os.path.join(self.dir, node + ".log"), "a")
            self.procs[node] = subprocess.Popen([os.path.join(self.bin, "lienthongd"), "--home", self.home(node)],
                                                stdout=log, stderr=log)
        return {node: self.desk(node) for node in nodes}

    def desk(self, node, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                url = json.loads(self.cli("status", "--json", home=node)).get("desk")
                if url:
                    return url
            except subprocess.CalledProcessError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{node}'s desk did not start; see {self.dir}/{node}.log")

    def user(self, node, name, role, password="mat-khau-thu-1"):
        pw = os.path.join(self.dir, "pw-" + name)
        with open(pw, "w") as f:
            f.write(password)
        self.cli("user", "add", name, "--role", role, "--password-file", pw, home=node)
        if role == "api":
            return self.cli("user", "token", name, home=node).strip()
        return password

    def stop(self):
        for p in self.procs.values():
            p.terminate()
        for p in self.procs.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        self.procs = {}

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)
