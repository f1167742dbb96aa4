#!/usr/bin/env python3
"""The 2025 reorganisation for Scripts/demo --reorganise (issue 18, point 6).

  reorganise.py prepare WORK LT REPORTER     version 2 signed, new communes' homes, adopted keys
  reorganise.py reach WORK PUBLISHED NODE…   when version 2 was in force on every node (from logs)
  reorganise.py summary WORK LT DIRECTIVE SENDER NOTICE HOT REPORT REPORTER
                                             exactly once at each recipient or its successor

Version 2 retires every district into the province hub (`mergedInto`, parents kept), puts every
commune under the hub, and merges three groups of three communes into three new communes, as
the 2025 mergers did. The successors adopt the retired units' encryption keys before the daemons
start (`lienthong keys adopt`), so no restart is needed.
"""
import json
import os
import subprocess
import sys
import time
from datetime import datetime


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def prepare(work, lt, reporter):
    net = os.path.join(work, "net")
    v1 = json.load(open(os.path.join(net, "topology.json")))
    nodes = v1["nodes"]
    root = next(n for n in nodes if not n["parents"])
    districts = [n for n in nodes if n["level"] == "district"]
    communes = [n for n in nodes if n["level"] == "commune"]
    # Three groups of (up to) three communes, each in its own district, the reporter left alone.
    picks = [districts[i] for i in (1, 4, 7) if i < len(districts)] or districts[:1]
    merges, new = {}, []
    for k, d in enumerate(picks, start=1):
        members = [c for c in communes if c["parents"][0] == d["id"] and c["id"] != reporter][:3]
        if len(members) < 2:
            continue
        nid = d["id"].replace(".00.", f".9{k}.", 1)
        new.append({"id": nid, "name": members[0]["name"] + " (sau sáp nhập)", "level": "commune",
                    "parents": [root["id"]]})
        for m in members:
            merges[m["id"]] = nid
    v2 = dict(v1)
    v2["nodes"] = []
    for n in nodes:
        n = dict(n)
        if n["level"] == "district":
            n["mergedInto"] = root["id"]
        if n["level"] == "commune":
            n["parents"] = [root["id"]]
        if n["id"] in merges:
            n["mergedInto"] = merges[n["id"]]
        v2["nodes"].append(n)
    plain = os.path.join(work, "v2-plain.json")
    json.dump({**v2, "nodes": v2["nodes"] + new}, open(plain, "w"), ensure_ascii=False, indent=1)
    settings = json.load(open(os.path.join(net, communes[0]["id"], "node.json")))["settings"]
    authority = os.path.join(net, "authority")
    for n in new:
        home = os.path.join(net, n["id"])
        run(lt, "init", "--node", n["id"], "--topology", plain, "--authority-key",
            os.path.join(authority, "authority.pub"), "--home", home)
        keys = json.load(open(os.path.join(home, "keys", "public.json")))
        n["signingKey"], n["encryptionKey"] = keys["signingKey"], keys["encryptionKey"]
        config = json.load(open(os.path.join(home, "node.json")))
        config["settings"] = dict(settings, httpListen="off")
        json.dump(config, open(os.path.join(home, "node.json"), "w"), indent=1)
    v2["nodes"] += new
    path = os.path.join(work, "v2.json")
    json.dump(v2, open(path, "w"), ensure_ascii=False, indent=1)
    signed = os.path.join(work, "v2.signed.json")
    run(lt, "topology", "sign", path, "--authority", authority, "--version", "2", "--out", signed)
    for n in new:
        run(lt, "topology", "install", signed, "--home", os.path.join(net, n["id"]))
    # The successors take the retired units' keys: the hub the districts', each new commune its three.
    for d in districts:
        run(lt, "keys", "adopt", "--home", os.path.join(net, root["id"]), "--from", os.path.join(net, d["id"]))
    for old, successor in merges.items():
        run(lt, "keys", "adopt", "--home", os.path.join(net, successor), "--from", os.path.join(net, old))
    open(os.path.join(work, "new-nodes"), "w").write(" ".join(n["id"] for n in new) + "\n")
    print(f"version 2 prepared: {len(districts)} districts retired into the hub, {len(communes)} communes under it, "
          f"{len(merges)} communes merged into {len(new)} new ones ({', '.join(n['id'] for n in new)})")


def stamp(log):
    """When the node's log says version 2 came into force (seconds since the epoch), or None."""
    try:
        for line in open(log, encoding="utf-8", errors="replace"):
            if "topology version 2 in force" in line:
                return datetime.fromisoformat(line.split(" ", 1)[0].replace("Z", "+00:00")).timestamp()
    except FileNotFoundError:
        pass
    return None


def reach(work, published, nodes):
    published = float(published)
    pending, seen = set(nodes), {}
    deadline = time.time() + 150
    while pending and time.time() < deadline:
        for n in list(pending):
            t = stamp(os.path.join(work, n + ".log"))
            if t is not None:
                seen[n] = t - published
                pending.discard(n)
        time.sleep(0.5)
    times = sorted(seen.values())
    with open(os.path.join(work, "reach.txt"), "w") as f:
        if times:
            last = max(seen, key=seen.get)
            f.write(f"version 2 in force on {len(seen)}/{len(nodes)} nodes: half within {times[len(times) // 2]:.1f} s, "
                    f"90 % within {times[int(len(times) * 0.9) - 1]:.1f} s, all within {times[-1]:.1f} s "
                    f"(the last, {last}, behind its link's fault)\n")
        if pending:
            f.write(f"not in force after 150 s on {len(pending)} node(s): {' '.join(sorted(pending)[:5])}\n")


def successor(v2, node):
    by_id = {n["id"]: n for n in v2["nodes"]}
    while by_id.get(node, {}).get("mergedInto"):
        node = by_id[node]["mergedInto"]
    return node


def summary(work, lt, directive, sender, notice, hot, report, reporter):
    net = os.path.join(work, "net")
    v2 = json.load(open(os.path.join(work, "v2.json")))
    inboxes = {}

    def inbox(node):
        if node not in inboxes:
            out = run(lt, "inbox", "list", "--json", "--limit", "100000", "--home", os.path.join(net, node))
            inboxes[node] = [x["id"] for x in json.loads(out)]
        return inboxes[node]

    def track(node, env):
        return json.loads(run(lt, "track", env, "--json", "--home", os.path.join(net, node)))

    ok = True
    for label, env, origin in (("directive", directive, sender), ("hỏa tốc notice", notice, hot),
                               ("report up", report, reporter)):
        t = track(origin, env)
        direct = via = twice = missing = 0
        for e in t["entries"]:
            r = e["recipient"]
            s = successor(v2, r)
            here, there = inbox(r).count(env), (inbox(s).count(env) if s != r else 0)
            if here > 1 or there > 1:
                twice += 1
            if here == 0 and there == 0:
                missing += 1
            elif here == 0:
                via += 1
            else:
                direct += 1
        receipts = sum(1 for e in t["entries"] if e["status"] not in ("00", "undeliverable"))
        answered = sum(1 for e in t["entries"] if "nhận thay" in (e.get("reason") or ""))
        print(f"after the reorganisation, {label}: {direct} recipients hold it, {via} through their successor, "
              f"{missing} not at all, {twice} more than once; {receipts}/{t['recipients']} receipts back "
              f"({answered} answered by a successor)")
        ok = ok and missing == 0 and twice == 0 and receipts == t["recipients"]
    path = os.path.join(work, "reach.txt")
    for _ in range(300):
        if os.path.exists(path):
            break
        time.sleep(0.5)
    print(open(path).read().rstrip() if os.path.exists(path) else "version 2: not measured")
    return ok


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "prepare":
        prepare(*args)
    elif cmd == "reach":
        reach(args[0], args[1], args[2:])
    elif cmd == "summary":
        sys.exit(0 if summary(*args) else 1)
    else:
        sys.exit(__doc__)
