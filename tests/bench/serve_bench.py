#!/usr/bin/env python3
"""Benchmark of `tollgate serve` on loopback (docs/serve.md "Performance").

Compares, in one run on one machine, the decision endpoints with the server's own null endpoint
(/null: the same HTTP path, parsing and metrics, no decision: the HTTP floor here) and with nginx
`return 200` (a reference HTTP server):
  - maximum requests/s with keep-alive (wrk, 32 connections, one load thread);
  - p50 / p99 at fixed rates of 1k, 5k and 20k requests/s (h2load --rps, latencies from its
    per-request log).
The load generator shares the machine's cores with the server, so the ratios are the result;
absolute numbers only hold for this machine.

usage: python3 tests/bench/serve_bench.py [--cli build/tollgate] [--seconds 5] [--threads 1]
Needs wrk, h2load (nghttp2-client) and nginx (nginx-light): ./run.sh deps installs them.
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# With 2+ cores and taskset, the servers run on CPU 0 and the load generators on CPU 1, so they do
# not preempt each other: the scheduler's noise is otherwise larger than what is measured.
PIN = shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2
PIN_SERVER = ["taskset", "-c", "0"] if PIN else []
PIN_LOAD = ["taskset", "-c", "1"] if PIN else []
BODY = '{"input":{"tenant":"acme","task":"classify","in_tokens":300}}'
AUTHZ_HEADERS = ["x-tollgate-tenant: acme", "x-tollgate-task: classify",
                 "x-tollgate-in-tokens: 300"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_http(url, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.05)
    sys.exit(f"serve_bench: {url} did not answer within {timeout} s")


def wrk(url, seconds, tmp, post=False, headers=()):
    cmd = PIN_LOAD + ["wrk", "-t1", "-c32", f"-d{seconds}s"]
    for h in headers:
        cmd += ["-H", h]
    if post:
        script = os.path.join(tmp, "post.lua")
        with open(script, "w") as f:
            f.write('wrk.method = "POST"\nwrk.body = \'%s\'\n'
                    'wrk.headers["Content-Type"] = "application/json"\n' % BODY)
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 30).stdout
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    sys.exit("serve_bench: wrk printed no rate:\n" + out)


def h2load(url, rate, seconds, tmp, post=False, headers=()):
    clients = 16
    log = os.path.join(tmp, "h2load.log")
    if os.path.exists(log):
        os.remove(log)
    cmd = PIN_LOAD + ["h2load", "--h1", "-c", str(clients), "-t", "1", "--rps", str(rate / clients),
           "-D", str(seconds), "--log-file", log]
    for h in headers:
        cmd += ["-H", h]
    if post:
        body = os.path.join(tmp, "body.json")
        with open(body, "w") as f:
            f.write(BODY)
        cmd += ["-d", body, "-H", "content-type: application/json"]
    subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 30)
    lat, bad = [], 0
    with open(log) as f:
        for line in f:
            fields = line.split("\t")
            if len(fields) < 3:
                continue
            if fields[1] != "200":
                bad += 1
            lat.append(int(fields[2]))
    lat.sort()
    if not lat:
        sys.exit("serve_bench: h2load logged no request")

    def pct(q):
        return lat[min(len(lat) - 1, int(q * len(lat)))]

    return {"n": len(lat), "bad": bad, "p50": pct(0.5), "p99": pct(0.99),
            "rate": len(lat) / seconds}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "tollgate"))
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3,
                    help="fixed-rate runs per endpoint, interleaved; medians are reported")
    ap.add_argument("--threads", type=int, default=1,
                    help="server request threads (the load generator takes the other core)")
    args = ap.parse_args()
    for tool in ("wrk", "h2load", "nginx"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            sys.exit(f"serve_bench: {tool} is not installed (./run.sh deps)")

    tmp = tempfile.mkdtemp(prefix="tollgate-serve-bench-")
    procs = []
    try:
        port = free_port()
        serve = subprocess.Popen(
            PIN_SERVER + [args.cli, "serve", os.path.join(ROOT, "policies", "gateway.pol"), "--listen",
             f"127.0.0.1:{port}", "--threads", str(args.threads), "--jit-hot", "0",
             "--prices", os.path.join(ROOT, "examples", "data", "prices.json")],
            stderr=subprocess.DEVNULL)
        procs.append(serve)
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/readyz")

        nport = free_port()
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""worker_processes {args.threads};
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{nport};
    location / {{ default_type application/json; return 200 '{{}}'; }}
  }}
}}
""")
        nginx = subprocess.Popen(PIN_SERVER + ["nginx", "-c", conf, "-p", tmp], stderr=subprocess.DEVNULL)
        procs.append(nginx)
        ngx = f"http://127.0.0.1:{nport}/"
        wait_http(ngx)

        # Warm-up: JIT tier, per-thread caches, connection setup.
        wrk(base + "/v1/decide", 1, tmp, post=True)

        targets = [
            ("null endpoint (/null)", base + "/null", False, ()),
            # The floor for decide: the same POST with the same body, answered without deciding.
            ("null endpoint, POST with body", base + "/null", True, ()),
            ("POST /v1/decide", base + "/v1/decide", True, ()),
            ("GET /v1/authz", base + "/v1/authz", False, AUTHZ_HEADERS),
            ("nginx return 200", ngx, False, ()),
        ]
        # Throughput, interleaved the same way as the fixed rates below: median over rounds.
        thr_runs = {}
        for _ in range(args.rounds):
            for name, url, post, headers in targets:
                thr_runs.setdefault(name, []).append(wrk(url, args.seconds, tmp, post, headers))
        thr = {name: sorted(v)[len(v) // 2] for name, v in thr_runs.items()}
        # Fixed rates: the endpoints take turns within each round, so a slow moment of the
        # machine hits all of them; the median over rounds is reported, and the spread of the
        # null endpoint's own p99 is the noise floor a difference must exceed.
        runs = {}
        for rate in (1000, 5000, 20000):
            for _ in range(args.rounds):
                for name, url, post, headers in targets:
                    runs.setdefault((name, rate), []).append(
                        h2load(url, rate, args.seconds, tmp, post, headers))

        def median(xs):
            xs = sorted(xs)
            return xs[len(xs) // 2]

        lat = {k: {"p50": median([r["p50"] for r in v]), "p99": median([r["p99"] for r in v]),
                   "bad": sum(r["bad"] for r in v)} for k, v in runs.items()}

        # Server-side time per request (tollgate_request_duration_seconds sum / count).
        metrics = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
        server_us = {}
        for endpoint in ("decide", "authz", "other"):
            tot = {}
            for line in metrics.splitlines():
                for part in ("sum", "count"):
                    prefix = f'tollgate_request_duration_seconds_{part}{{endpoint="{endpoint}"}} '
                    if line.startswith(prefix):
                        tot[part] = float(line.split()[-1])
            if tot.get("count"):
                # p99 bound from the cumulative buckets: the first bound holding 99% of them.
                p99 = None
                for line in metrics.splitlines():
                    prefix = f'tollgate_request_duration_seconds_bucket{{endpoint="{endpoint}",le="'
                    if line.startswith(prefix) and p99 is None:
                        le = line[len(prefix):line.index('"', len(prefix))]
                        if float(line.split()[-1]) >= 0.99 * tot["count"]:
                            p99 = le
                server_us[endpoint] = (1e6 * tot["sum"] / tot["count"], p99)

        null = "null endpoint (/null)"
        print(f"# tollgate serve benchmark ({args.threads} server thread(s), {os.cpu_count()} "
              f"cores, load generator on the same machine{', pinned: servers on CPU 0, load on CPU 1' if PIN else ''}, "
              f"{args.rounds} rounds, medians)\n")
        print("| endpoint | max req/s (wrk -c32) | vs null | p50 / p99 at 1k rps | "
              "at 5k rps | at 20k rps |")
        print("|---|--:|--:|--:|--:|--:|")
        for name, *_ in targets:
            cells = []
            for rate in (1000, 5000, 20000):
                r = lat[(name, rate)]
                bad = f" ({r['bad']} non-200)" if r["bad"] else ""
                cells.append(f"{r['p50']} / {r['p99']} us{bad}")
            print(f"| {name} | {thr[name]:.0f} | {thr[name] / thr[null]:.2f} | " +
                  " | ".join(cells) + " |")
        print()
        null_p99s = sorted(r["p99"] for r in runs[(null, 5000)])
        print(f"noise floor: the null endpoint's own p99 at 5k rps ranged {null_p99s[0]}-"
              f"{null_p99s[-1]} us over {args.rounds} rounds")
        print("server time per request (handler): " +
              ", ".join(f"{k} mean {m:.2f} us, p99 <= {float(p) * 1e6:g} us"
                        for k, (m, p) in server_us.items()) + " ('other' includes /null)")
        null_post = "null endpoint, POST with body"
        for name, floor in (("POST /v1/decide", null_post), ("GET /v1/authz", null)):
            added = lat[(name, 5000)]["p99"] - lat[(floor, 5000)]["p99"]
            ratio = thr[name] / thr[floor]
            print(f"{name}: throughput {ratio:.0%} of '{floor}' (goal >= 80%), "
                  f"median p99 at 5k rps {added:+d} us over it (goal <= 50 us)")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
