"""Runs schemathesis against a live node's desk; see Scripts/api-check."""
import os, re, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from desknet import Network, PROVINCE, DISTRICT, COMMUNE, ROOT

examples = sys.argv[1] if len(sys.argv) > 1 else "40"
budget = sys.argv[2] if len(sys.argv) > 2 else "180"
net = Network()
try:
    desks = net.start(PROVINCE, DISTRICT, COMMUNE)
    token = net.user(COMMUNE, "eoffice", "api")
    # A real received document and a real sent one, so ids exist beside the generated ones.
    attachment = os.path.join(net.dir, "to-trinh.txt")
    with open(attachment, "w") as f:
        f.write("Tờ trình thử\n")
    net.cli("send", "--to", COMMUNE, "--subject", "Công văn thử", "--file", attachment, home=PROVINCE)
    net.cli("send", "--to", PROVINCE, "--subject", "Báo cáo thử", "--file", attachment, home=COMMUNE)
    base = desks[COMMUNE] + "/api/v1"
    cmd = ["schemathesis", "run", os.path.join(ROOT, "docs/openapi.yaml"), "--url", base,
           "-H", f"Authorization: Bearer {token}",
           "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
           "--max-examples", examples, "--seed", "17", "--max-time", budget, "--continue-on-failure"]
    print("==> " + " ".join(c if not c.startswith("Authorization") else "Authorization: Bearer …" for c in cmd))
    result = subprocess.run(cmd, capture_output=True, text=True)
    out = result.stdout + result.stderr
    log = os.path.join(ROOT, ".build", "api-check.log")
    with open(log, "w") as f:
        f.write(out)
    print(out[-6000:])
    print(f"full output: {log}")
    cases = re.findall(r"(\d+) generated", out) or re.findall(r"Test cases:\s*(\d+)", out)
    print(f"api-check: schemathesis exit {result.returncode}; cases: {cases[0] if cases else '?'}")
    sys.exit(result.returncode)
finally:
    net.stop()
    if os.environ.get("LT_KEEP") is None:
        net.remove()
