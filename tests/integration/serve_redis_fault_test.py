"""Two tollgate serve replicas sharing budgets through a real redis-server (AOF on), which is
killed with SIGKILL mid-run and restarted. While Redis is down: /readyz turns 503, a `fail
closed` budget denies once the replica's lease can no longer be trusted, a `fail open` one keeps
admitting. After Redis returns and the replicas stop, Redis holds exactly the spend that was
recorded: nothing lost, nothing counted twice.

usage: serve_redis_fault_test.py TOLLGATE_CLI"""
import os
import subprocess
import sys
import time

from serve_support import (Check, Process, Serve, Workdir, free_port, post_json, request,
                           require, wait_until)

POLICY = """policy {name}
input {{
  tenant: string
}}
routes {{
  cheap = "m-cheap" in $1/M out $2/M
}}
budget {budget} = 10 usd per tenant per day{mode}
if {budget}.remaining <= 0 deny "budget spent"
default route cheap max_out 500
"""
# One call: reserve 1000 in + 500 out tokens ($0.002), record 1000 in + 400 out.
UNITS_PER_CALL = 1000 * 1000 + 400 * 2000  # 1e-9 USD units: $0.0018
LEASE_TTL_MS = 2000


class Redis(Process):
    def __init__(self, server, port, wd):
        self.port = port
        argv = [server, "--port", str(port), "--bind", "127.0.0.1", "--dir", wd.path,
                "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                "--daemonize", "no"]
        super().__init__(argv, os.path.join(wd.path, f"redis-{time.monotonic_ns()}.log"))
        wait_until("redis to answer PING", lambda: self.cli("PING") == "PONG")

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True,
                           text=True, timeout=5)
        return r.stdout.strip()


def call(serve, policy, check, expect_admitted):
    status, out = post_json(serve.port, "/v1/admit",
                            {"policy": policy, "input": {"tenant": "acme"},
                             "est_in_tokens": 1000})
    check(status == 200, f"admit: {status} {out}")
    if not out["admitted"]:
        check(not expect_admitted, f"{policy} on {serve.port} refused: {out}")
        return out["reason"]
    check(expect_admitted is not False, f"{policy} admitted during the outage: {out}")
    status, rec = post_json(serve.port, "/v1/record",
                            {"id": out["id"], "in_tokens": 1000, "out_tokens": 400})
    check(status == 200 and rec.get("recorded"), f"record: {status} {rec}")
    return None


def ready(serve):
    return request(serve.port, "GET", "/readyz")[0]


def main():
    cli = sys.argv[1]
    server = require("redis-server")
    require("redis-cli")
    check = Check()
    with Workdir() as wd:
        policies = os.path.join(wd.path, "policies")
        os.mkdir(policies)
        with open(os.path.join(policies, "closed.pol"), "w") as f:
            f.write(POLICY.format(name="closed", budget="cday", mode=""))
        with open(os.path.join(policies, "open.pol"), "w") as f:
            f.write(POLICY.format(name="open", budget="oday", mode=" fail open"))
        port = free_port()
        redis = Redis(server, port, wd)
        url = (f"redis://127.0.0.1:{port}?prefix=it:&lease_ttl_ms={LEASE_TTL_MS}"
               "&flush_interval_ms=50&command_timeout_ms=200&slice=0.02")
        a = Serve(cli, policies, wd.path, "--ledger", url + "&replica=a", "--threads", "1",
                  name="a")
        b = Serve(cli, policies, wd.path, "--ledger", url + "&replica=b", "--threads", "1",
                  name="b")
        expected = {"cday": 0, "oday": 0}
        try:
            wait_until("both replicas ready", lambda: ready(a) == 200 and ready(b) == 200)
            # Phase 1: Redis up. Both replicas admit and record for both budgets.
            for i in range(40):
                for policy, budget in (("closed", "cday"), ("open", "oday")):
                    call(a if i % 2 else b, policy, check, True)
                    expected[budget] += UNITS_PER_CALL

            # Phase 2: Redis killed.
            redis.stop(sig=9)
            wait_until("/readyz to report the outage", lambda: ready(a) == 503, timeout=5)
            check(a.metric("tollgate_ledger_connected") == 0, "ledger_connected must be 0")
            time.sleep(LEASE_TTL_MS / 1000 + 0.5)  # past the lease: only fail open admits
            for serve in (a, b):
                for _ in range(10):
                    reason = call(serve, "closed", check, False)
                    check(reason and "unavailable" in reason, f"closed budget reason: {reason}")
                    call(serve, "open", check, True)
                    expected["oday"] += UNITS_PER_CALL
            unreported = a.metric("tollgate_ledger_unreported_units")
            check(unreported and unreported > 0, f"open usage must wait for Redis: {unreported}")

            # Phase 3: Redis back with its append-only file; the replicas reconnect and report.
            redis = Redis(server, port, wd)
            wait_until("replicas to reconnect", lambda: ready(a) == 200 and ready(b) == 200,
                       timeout=10)
            call(a, "closed", check, True)
            expected["cday"] += UNITS_PER_CALL
        finally:
            rc_a, rc_b = a.stop(), b.stop()  # SIGTERM: report everything before exiting
        check(rc_a == 0 and rc_b == 0, f"exit codes {rc_a} {rc_b}:\n{a.output()[-2000:]}")

        spent = {"cday": 0, "oday": 0}
        for key in redis.cli("--scan", "--pattern", "it:*:s").split():
            for budget in spent:
                if budget in key:
                    spent[budget] += int(redis.cli("HGET", key, "spent") or 0)
        redis.stop()
        print(f"spent in Redis: {spent}, recorded: {expected}")
        check(spent == expected, f"Redis holds {spent}, the replicas recorded {expected}")
    print(f"serve_redis_fault_test: ok ({check.count} checks)")


if __name__ == "__main__":
    main()
