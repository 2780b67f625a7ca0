"""Instructions per second of an idle gateway under callgrind (docs/performance.md): the
background work (store pollers, timers) that a per-call count spreads over the calls. Usage:
callgrind_idle.py TARGET_DIR LABEL SECONDS, where TARGET_DIR holds a release build of
llm-gateway. Waits for /health and 5 s more, zeroes the counters, waits SECONDS, dumps."""
import os, socket, subprocess, sys, tempfile, time
target, label, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
rel = os.path.join(target, "release")
cfg_tpl = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "gateway-bench.toml")).read()
KEY = "sk-gw-BenchKey0123456789abcdefghijklmnopqrstuvwxy"
def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
scratch = tempfile.mkdtemp(prefix="cgi-")
mp, ms, gp = free_port(), free_port(), free_port()
cfg = cfg_tpl.replace("@GATEWAY_LISTEN@", f"127.0.0.1:{gp}").replace("@MOCK_URL@", f"http://127.0.0.1:{mp}").replace("@MOCK_SLOW_URL@", f"http://127.0.0.1:{ms}")
open(f"{scratch}/gw.toml", "w").write(cfg)
out = f"{scratch}/callgrind.out"
gw = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", f"{rel}/llm-gateway", "--config", f"{scratch}/gw.toml", "--demo"], cwd=scratch, env=dict(os.environ, GATEWAY_DEMO_KEY=KEY, RUST_LOG="warn"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
import http.client
deadline=time.time()+300
while True:
    try:
        c=http.client.HTTPConnection("127.0.0.1", gp, timeout=30); c.request("GET","/health"); c.getresponse().read(); break
    except OSError:
        time.sleep(0.5)
time.sleep(5)
subprocess.run(["callgrind_control", "-z", str(gw.pid)], check=True, stdout=subprocess.DEVNULL)
time.sleep(secs)
subprocess.run(["callgrind_control", "-d", str(gw.pid)], check=True, stdout=subprocess.DEVNULL)
time.sleep(1); gw.terminate(); gw.wait(60)


for line in open(out + ".1"):
    if line.startswith(("summary:", "totals:")):
        t = int(line.split()[1]); break
print(f"{label}: idle {t/secs/1000:.1f} k instructions per second; profile {out}.1")
