"""Hot reload under load: h2load sends decisions at a fixed rate for 10 s while the policy file is
rewritten 100 times (every fifth version does not compile). Every request must succeed, every
answer must come from a version that compiled, and after the burst the server serves a new valid version and keeps it when a broken one follows.

usage: serve_reload_load_test.py TOLLGATE_CLI"""
import json
import os
import re
import subprocess
import sys
import threading
import time

from serve_support import Check, Serve, Workdir, post_json, request, require, wait_until

SECONDS = 10
REWRITES = 100
CLIENTS, RATE_PER_CLIENT = 4, 250  # 1,000 requests/s: well inside what 2 shared cores serve


def policy(version, valid=True):
    broken = "if task == classify route nowhere\n" if not valid else ""
    return f"""policy gateway
input {{
  tenant: string
  task: enum(classify, chat) = chat
}}
routes {{
  cheap = "m-cheap" in $1/M out $2/M
  strong = "m-strong" in $3/M out $15/M
}}
if tenant startswith "blocked-" deny "blocked tenant"
{broken}if task == classify route cheap max_out {1000 + version}
default route strong max_out 4000
"""


def main():
    cli = sys.argv[1]
    h2load = require("h2load")
    check = Check()
    with Workdir() as wd:
        policies = os.path.join(wd.path, "policies")
        os.mkdir(policies)
        pol = os.path.join(policies, "gateway.pol")
        with open(pol, "w") as f:
            f.write(policy(0))
        serve = Serve(cli, policies, wd.path, "--threads", "2")
        try:
            body = wd.write("body.json", json.dumps({"input": {"tenant": "acme", "task": "classify"}}))
            url = f"http://127.0.0.1:{serve.port}/v1/decide/gateway"
            load = subprocess.Popen(
                [h2load, "--h1", "-c", str(CLIENTS), "--rps", str(RATE_PER_CLIENT), "-D", str(SECONDS),
                 "-d", body, "-H", "content-type: application/json", url],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

            valid = {1000}
            seen, wrong = {}, []
            stop = threading.Event()

            def probe():  # a second client that reads every answer
                while not stop.is_set():
                    status, out = post_json(serve.port, "/v1/decide/gateway",
                                            {"input": {"tenant": "acme", "task": "classify"}})
                    m = out.get("decision", {}).get("max_out") if status == 200 else None
                    seen[m] = seen.get(m, 0) + 1
                    if status != 200 or m not in valid:
                        wrong.append((status, out))

            prober = threading.Thread(target=probe)
            prober.start()
            last_valid = 0
            interval = (SECONDS - 1.0) / REWRITES
            for v in range(1, REWRITES + 1):
                ok = v % 5 != 0
                if ok:
                    valid.add(1000 + v)  # before the write: the server may serve it at once
                    last_valid = v
                tmp = pol + ".tmp"
                with open(tmp, "w") as f:
                    f.write(policy(v, ok))
                os.replace(tmp, pol)
                time.sleep(interval)
            out, _ = load.communicate(timeout=SECONDS + 30)
            stop.set()
            prober.join(10)

            # The load generator's verdict.
            m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                          r"(\d+) failed, (\d+) errored, (\d+) timeout", out)
            check(m is not None, "h2load summary missing:\n" + out)
            total, _, done, succeeded, failed, errored, timeouts = map(int, m.groups())
            codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
            check(codes is not None, out)
            ok2xx = int(codes.group(1))
            expected = CLIENTS * RATE_PER_CLIENT * SECONDS
            print(f"h2load: {done} done, {succeeded} succeeded, {ok2xx} 2xx, {failed} failed, "
                  f"{errored} errored, {timeouts} timeouts (rate target {expected} in {SECONDS}s)")
            check(failed == 0 and errored == 0 and timeouts == 0, out)
            check(ok2xx == done, f"non-2xx answers under reload:\n{out}")
            check(done >= 0.9 * expected, f"only {done} of {expected} requests done:\n{out}")

            # The probe saw only compiled versions, and more than one of them.
            check(not wrong, f"answers not from a valid version: {wrong[:3]}")
            check(len(seen) >= 5, f"the probe saw too few versions: {seen}")

            # The server settles on a new valid version, and a broken write after it keeps it. (The
            # last valid version of the burst can be skipped legitimately: when it and the broken
            # one after it land inside one debounce window, one reload reads the broken file.)
            def served():
                status, out = post_json(serve.port, "/v1/decide/gateway",
                                        {"input": {"task": "classify", "tenant": "a"}})
                return out["decision"]["max_out"] if status == 200 else None

            def policies():
                _, _, text = request(serve.port, "GET", "/v1/policies")
                return json.loads(text)["policies"][0]

            final = REWRITES + 1
            with open(pol + ".tmp", "w") as f:
                f.write(policy(final))
            os.replace(pol + ".tmp", pol)
            wait_until("the final version to be served", lambda: served() == 1000 + final, timeout=10)
            failed_before = policies()["reloads_failed"]
            with open(pol + ".tmp", "w") as f:
                f.write(policy(final + 1, valid=False))
            os.replace(pol + ".tmp", pol)
            wait_until("the broken version to be refused",
                       lambda: policies()["reloads_failed"] > failed_before, timeout=10)
            check(served() == 1000 + final, "a failed reload replaced the serving version")
            p = policies()
            check(p["last_reload_error"], f"the refused reload left no error in /v1/policies: {p}")
            print(f"reloads: {p['reloads_ok']} ok, {p['reloads_failed']} failed, "
                  f"{sum(seen.values())} probe answers over {len(seen)} versions")
            check(p["reloads_ok"] >= 10, f"too few reloads: {p}")
            check(p["reloads_failed"] >= 2, f"broken versions were not refused: {p}")
        finally:
            rc = serve.stop()  # also when a check failed: never leave a server behind
        check(rc == 0, f"server exit status {rc}:\n" + serve.output()[-3000:])
    print(f"serve_reload_load_test: ok ({check.count} checks)")


if __name__ == "__main__":
    main()
