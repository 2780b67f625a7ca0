"""Instructions per gateway call under callgrind: the method of docs/performance.md
("Instruction counts"), with a Python client in place of oha (the client's own cost is not
counted: callgrind measures the gateway process only). Usage: callgrind_per_call.py TARGET_DIR
LABEL, where TARGET_DIR holds a release build of llm-gateway and mock-upstream."""
import http.client, json, os, socket, subprocess, sys, tempfile, time

target, label = sys.argv[1], sys.argv[2]
rel = os.path.join(target, "release")
cfg_tpl = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "gateway-bench.toml")).read()
KEY = "sk-gw-BenchKey0123456789abcdefghijklmnopqrstuvwxy"

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

scratch = tempfile.mkdtemp(prefix="cg-")
mp, ms, gp = free_port(), free_port(), free_port()
mocks = [subprocess.Popen([f"{rel}/mock-upstream", "--listen", f"127.0.0.1:{p}"] + (["--latency-ms", "20"] if i else []),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i, p in enumerate((mp, ms))]
cfg = cfg_tpl.replace("@GATEWAY_LISTEN@", f"127.0.0.1:{gp}").replace("@MOCK_URL@", f"http://127.0.0.1:{mp}").replace("@MOCK_SLOW_URL@", f"http://127.0.0.1:{ms}")
open(f"{scratch}/gw.toml", "w").write(cfg)
out = f"{scratch}/callgrind.out"
env = dict(os.environ, GATEWAY_DEMO_KEY=KEY, RUST_LOG="warn")
gw = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", f"{rel}/llm-gateway",
                       "--config", f"{scratch}/gw.toml", "--demo"], cwd=scratch, env=env,
                      stdout=subprocess.DEVNULL, stderr=open(f"{scratch}/vg.log", "w"))
body = json.dumps({"model": "bench", "messages": [{"role": "user", "content": "Say hello to the benchmark."}], "max_tokens": 32, "stream": False})
deadline = time.time() + 300
while True:
    try:
        c = http.client.HTTPConnection("127.0.0.1", gp, timeout=60); c.connect(); break
    except OSError:
        if time.time() > deadline: raise
        time.sleep(0.5)
def call(n):
    for _ in range(n):
        c.request("POST", "/v1/chat/completions", body, {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
        r = c.getresponse(); data = r.read()
        assert r.status == 200, (r.status, data)
call(200)
subprocess.run(["callgrind_control", "-z", str(gw.pid)], check=True, stdout=subprocess.DEVNULL)
N = 2000
call(N)
time.sleep(0.5)
subprocess.run(["callgrind_control", "-d", str(gw.pid)], check=True, stdout=subprocess.DEVNULL)
time.sleep(1)
gw.terminate(); gw.wait(60)
for m in mocks: m.terminate()
# The first dump after zeroing holds exactly the measured calls.
total = 0
for line in open(out + ".1", errors="replace"):
    if line.startswith("summary:") or line.startswith("totals:"):
        total = int(line.split()[1])
        break
print(f"{label}: {total/N/1000:.1f} k instructions per call ({total} over {N} calls)")
# The profile stays for `callgrind_annotate --inclusive=yes PATH` (attribution by function).
print(f"{label}: profile {out}.1")
