#!/usr/bin/env python3
"""Builds examples/traffic/gateway_traffic.jsonl(.zst): the bundled dry-run example traffic.

REAL (copied from the public traces in /work/shared/data, see its SOURCES.md):
  * timestamps, input tokens and output tokens of every record;
  * Mooncake's hash_ids (512-token prefix blocks), which drive the prompt-cache simulation.
  Sources: Azure LLM inference trace 2023 (code + conversation services, CC-BY-4.0) and the
  Mooncake FAST'25 conversation trace (Apache-2.0), all rows between --from and --to.
  Mooncake timestamps are relative; they are anchored at 2023-11-16T18:15:00Z so the three
  services overlap in the same hour as the Azure trace.

SYNTHETIC (assigned deterministically from a hash of the source and row, so reruns are
byte-identical): tenant, attrs.tier/task/priority/latency/sensitivity/history_tokens/rag_tokens/
tenant_budget, the logged model (what "actual" ran), request ids, and injected failures with
their retries (about 2% of requests: a throttled/server/timeout attempt 0 followed by attempt 1,
sometimes a second failure and attempt 2). The traces have none of these (no tenants, models
or failures), so they are invented to exercise the policy; their distributions are documented
in docs/dryrun.md ("The bundled example").

usage: tools/make_example_traffic.py [--data DIR] [--from HH:MM] [--to HH:MM] [--out FILE]
Writes canonical JSONL (docs/dryrun.md); compress with `zstd -19`.
"""
import argparse
import datetime as dt
import hashlib
import json
import sys

ANCHOR = dt.datetime(2023, 11, 16, 18, 15, 0, tzinfo=dt.timezone.utc)

# Tenants: (name, tier, monthly budget USD or None for the policy default, weight).
# A few small budgets make the 80% downgrade and the 100% deny fire within the hour.
TENANTS = [
    ("acme", "enterprise", None, 9), ("globex", "enterprise", None, 8),
    ("initech", "pro", None, 7), ("umbrella", "enterprise", None, 6),
    ("hooli", "pro", None, 6), ("stark", "enterprise", None, 5),
    ("wayne", "pro", None, 5), ("wonka", "pro", 40, 4),
    ("tyrell", "pro", None, 4), ("cyberdyne", "pro", 25, 4),
    ("soylent", "free", 6, 3), ("massive", "pro", None, 3),
    ("vandelay", "free", 4, 3), ("oscorp", "pro", None, 3),
    ("aperture", "enterprise", None, 3), ("blackmesa", "pro", 15, 2),
    ("duff", "free", 3, 2), ("gringotts", "pro", None, 2),
    ("trial-nova", "free", 2, 2), ("trial-orbit", "free", 2, 2),
    ("trial-pixel", "free", 1, 1), ("trial-quark", "free", 1, 1),
]
LOGGED_MODEL = {"code": "gpt-4o", "conv": "gpt-4o", "mooncake": "claude-3-5-sonnet-20241022"}
TASKS = {
    # service: [(task, weight)]; code requests have tiny outputs (median 13 tokens).
    "code": [("extract", 30), ("classify", 25), ("tag", 15), ("summarize", 15), ("analysis", 15)],
    "conv": [("chat", 50), ("qa", 25), ("summarize", 15), ("report", 10)],
    "mooncake": [("qa", 30), ("chat", 25), ("analysis", 15), ("summarize", 20), ("report", 10)],
}


def h(*parts):
    """Deterministic uniform float in [0, 1) from the parts."""
    d = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(d[:8], "big") / 2**64


def pick(weighted, u):
    total = sum(w for _, w in weighted)
    x = u * total
    for item, w in weighted:
        x -= w
        if x < 0:
            return item
    return weighted[-1][0]


def azure_rows(path, service):
    with open(path, newline="") as f:
        header = f.readline()
        assert header.strip() == "TIMESTAMP,ContextTokens,GeneratedTokens", header
        for i, line in enumerate(f):
            line = line.strip()
            if not line:
                continue
            ts, ctx, gen = line.split(",")
            day, clock = ts.split(" ")
            hms, frac = clock.split(".")
            t = dt.datetime.fromisoformat(f"{day}T{hms}").replace(tzinfo=dt.timezone.utc)
            ms = int(t.timestamp() * 1000) + int(frac[:3])  # 7 fractional digits: keep ms
            yield {"service": service, "row": i, "ms": ms, "in": int(ctx), "out": int(gen),
                   "conv": f"{service}-{i}"}


def mooncake_rows(path):
    base = int(ANCHOR.timestamp() * 1000)
    with open(path) as f:
        for i, line in enumerate(f):
            r = json.loads(line)
            ids = r["hash_ids"]
            # A conversation = requests sharing the first private prefix block.
            conv = ids[1] if len(ids) > 1 else ids[0]
            yield {"service": "mooncake", "row": i, "ms": base + r["timestamp"],
                   "in": r["input_length"], "out": r["output_length"], "hash_ids": ids,
                   "conv": f"mc-{conv}"}


def iso(ms):
    t = dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def records(row):
    svc, conv = row["service"], row["conv"]
    tenant_w = [((n, t, b), w) for n, t, b, w in TENANTS]
    tenant, tier, budget = pick(tenant_w, h("tenant", conv))
    task = pick(TASKS[svc], h("task", conv))
    priority = pick([("low", 2), ("normal", 6), ("high", 1.5), ("critical", 0.5)], h("prio", svc, row["row"]))
    async_ok = task in ("summarize", "report", "tag")
    latency = "async" if async_ok and h("lat", svc, row["row"]) < 0.25 else "realtime"
    u = h("sens", svc, row["row"])
    sensitivity = "restricted" if u < 0.03 else "public" if u < 0.25 else "internal"
    attrs = {"task": task, "tier": tier, "priority": priority, "latency": latency,
             "sensitivity": sensitivity, "service": svc}
    if budget is not None:
        attrs["tenant_budget"] = budget
    inp = row["in"]
    if task in ("chat", "qa", "analysis"):
        # Conversation history: a deterministic share of the prompt.
        attrs["history_tokens"] = int(inp * (0.3 + 0.6 * h("hist", svc, row["row"])))
    if task == "qa":
        # Retrieved context: 20-45% of the prompt, bounded by what is not history.
        rag = int(inp * (0.2 + 0.25 * h("rag", svc, row["row"])))
        attrs["rag_tokens"] = min(rag, inp - attrs.get("history_tokens", 0))
    rid = f"{svc}-{row['row']:06d}"
    base = {"request_id": rid, "tenant": tenant, "model": LOGGED_MODEL[svc],
            "in_tokens": inp, "cached_tokens": 0}
    if "hash_ids" in row:
        extra = {"hash_ids": row["hash_ids"]}
    else:
        extra = {}
    # Injected failures: ~2% of requests fail once, a quarter of those fail twice.
    out = []
    f = h("fail", svc, row["row"])
    fails = 0 if f >= 0.02 else (2 if f < 0.005 else 1)
    ms = row["ms"]
    for attempt in range(fails):
        kind = pick([("throttled", 5), ("server", 3), ("timeout", 2)], h("kind", svc, row["row"], attempt))
        out.append(dict(ts=iso(ms), **base, attempt=attempt, out_tokens=0, status=kind,
                        attrs=attrs, **extra))
        ms += 200 * (2 ** attempt) + 50
    out.append(dict(ts=iso(ms), **base, attempt=fails, out_tokens=row["out"], status="ok",
                    attrs=attrs, **extra))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/work/shared/data")
    ap.add_argument("--from", dest="start", default="18:20", help="UTC HH:MM (inclusive)")
    ap.add_argument("--to", dest="end", default="18:50", help="UTC HH:MM (exclusive)")
    ap.add_argument("--out", default="-")
    a = ap.parse_args()
    day = ANCHOR.date().isoformat()
    lo = int(dt.datetime.fromisoformat(f"{day}T{a.start}:00+00:00").timestamp() * 1000)
    hi = int(dt.datetime.fromisoformat(f"{day}T{a.end}:00+00:00").timestamp() * 1000)
    rows = []
    d = a.data
    rows += azure_rows(f"{d}/azure_llm_inference_2023/AzureLLMInferenceTrace_code.csv", "code")
    rows += azure_rows(f"{d}/azure_llm_inference_2023/AzureLLMInferenceTrace_conv.csv", "conv")
    rows += mooncake_rows(f"{d}/mooncake_fast25/conversation_trace.jsonl")
    rows = [r for r in rows if lo <= r["ms"] < hi]
    out = []
    for r in rows:
        out += records(r)
    out.sort(key=lambda r: (r["ts"], r["request_id"], r["attempt"]))
    f = sys.stdout if a.out == "-" else open(a.out, "w")
    for r in out:
        f.write(json.dumps(r, separators=(",", ":")) + "\n")
    if f is not sys.stdout:
        f.close()
    print(f"{len(rows)} requests, {len(out)} records", file=sys.stderr)


if __name__ == "__main__":
    main()
