"""Side by side: CPU time of two gateway builds per request, interleaved rounds, same load.
CPU per request = (utime+stime of the gateway process, from /proc/PID/stat) / requests.
Usage: cpu_side_by_side.py ROUNDS NAME_A TARGET_DIR_A NAME_B TARGET_DIR_B (each target dir holds
a release build of llm-gateway and mock-upstream). Both gateways run with the bench's
configuration (gateway-bench.toml); 8 keep-alive connections, 8,000 calls per turn, order
alternating per round."""
import http.client, json, os, socket, subprocess, sys, tempfile, threading, time

KEY = "sk-gw-BenchKey0123456789abcdefghijklmnopqrstuvwxy"
TPL = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "gateway-bench.toml")).read()
TICK = os.sysconf("SC_CLK_TCK")
def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
def start(target):
    rel = f"{target}/release"; d = tempfile.mkdtemp(prefix="pair-")
    mp, ms, gp = free_port(), free_port(), free_port()
    mocks = [subprocess.Popen([f"{rel}/mock-upstream", "--listen", f"127.0.0.1:{p}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for p in (mp, ms)]
    open(f"{d}/gw.toml", "w").write(TPL.replace("@GATEWAY_LISTEN@", f"127.0.0.1:{gp}").replace("@MOCK_URL@", f"http://127.0.0.1:{mp}").replace("@MOCK_SLOW_URL@", f"http://127.0.0.1:{ms}"))
    gw = subprocess.Popen([f"{rel}/llm-gateway", "--config", f"{d}/gw.toml", "--demo"], cwd=d, env=dict(os.environ, GATEWAY_DEMO_KEY=KEY, RUST_LOG="warn"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try: socket.create_connection(("127.0.0.1", gp), 0.2).close(); break
        except OSError: time.sleep(0.1)
    return gw, mocks, gp
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK
BODY = json.dumps({"model": "bench", "messages": [{"role": "user", "content": "Say hello to the benchmark."}], "max_tokens": 32, "stream": False})
def load(port, n, conns=8):
    def worker(k):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(k):
            c.request("POST", "/v1/chat/completions", BODY, {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
            r = c.getresponse(); r.read(); assert r.status == 200, r.status
    ts = [threading.Thread(target=worker, args=(n // conns,)) for _ in range(conns)]
    [t.start() for t in ts]; [t.join() for t in ts]
    return n // conns * conns
builds = {sys.argv[2]: start(sys.argv[3]), sys.argv[4]: start(sys.argv[5])}
for name, (gw, _, port) in builds.items(): load(port, 800)  # warm-up
results = {name: [] for name in builds}
for rnd in range(int(sys.argv[1])):
    order = list(builds) if rnd % 2 == 0 else list(reversed(builds))
    for name in order:
        gw, _, port = builds[name]
        before = cpu(gw.pid); n = load(port, 8000); used = cpu(gw.pid) - before
        results[name].append(used / n * 1e6)
    print(f"round {rnd+1}: " + ", ".join(f"{k} {v[-1]:.1f} us" for k, v in results.items()), flush=True)
for name, v in results.items():
    s = sorted(v); print(f"{name}: median {s[len(s)//2]:.1f} us CPU per request (rounds {', '.join(f'{x:.1f}' for x in v)})")
for gw, mocks, _ in builds.values():
    gw.terminate(); [m.terminate() for m in mocks]
