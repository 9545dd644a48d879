"""tollgate serve under malformed and hostile requests, over real sockets: truncated JSON, wrong
types, a body over the limit, 10,000 headers, drip-fed requests (slowloris), policy names with
`../`, and a storm of concurrent reloads. Each gets its status code, the server keeps serving
good requests throughout, and its memory stays flat: the resident size after a second round of
everything is within a small margin of the first.

usage: serve_hostile_test.py TOLLGATE_CLI"""
import os
import socket
import sys
import threading
import time

from serve_support import Check, Serve, Workdir, post_json, request

POLICY = """policy shop
input {
  tenant: string
  in_tokens: int = 100
}
routes {
  cheap = "m-cheap" in $1/M out $2/M
}
default route cheap max_out 100
"""


def raw(port, data, timeout=5.0):
    """Sends bytes as they are and returns the status code of the answer (0: closed silently)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:
            pass  # the server may close while we still send a huge request
        try:
            head = s.recv(64)
        except OSError:
            return 0
    return int(head.split()[1]) if head.startswith(b"HTTP/1.1 ") else 0


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def one_round(serve, check):
    port = serve.port
    post = lambda path, body: raw(port, (f"POST {path} HTTP/1.1\r\nHost: x\r\n"
                                         f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
    check(post("/v1/decide", b'{"input":{"tenant":"a",') == 400, "truncated JSON")
    check(post("/v1/decide", b'{"input":{"tenant":7}}') == 400, "wrong type")
    check(post("/v1/decide", b'{"input":{"in_tokens":1e999}}') == 400, "number overflow")
    check(post("/v1/decide", b"\xff\xfe{not json") == 400, "binary garbage")
    check(post("/v1/decide/..%2F..%2Fetc%2Fpasswd", b'{"input":{}}') == 404, "encoded ../")
    check(post("/v1/decide/../../etc/passwd", b'{"input":{}}') == 404, "../ in the name")
    big = b'{"input":{"tenant":"' + b"x" * (2 << 20) + b'"}}'
    check(post("/v1/decide", big) == 413, "body over --max-body")
    many = "".join(f"x-h{i}: v\r\n" for i in range(10000)).encode()
    check(raw(port, b"GET /v1/authz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n") == 431,
          "10,000 headers")
    check(raw(port, b"BLAH\r\n\r\n") == 400, "not HTTP")

    # Slowloris: 8 clients drip one byte every 200 ms; good requests are served meanwhile and
    # the drip-feeders are cut off by the read timeout.
    cut = []

    def drip():
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        start = time.monotonic()
        try:
            for b in b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" * 10:
                s.send(bytes([b]))
                time.sleep(0.2)
        except OSError:
            cut.append(time.monotonic() - start)
        finally:
            s.close()

    drippers = [threading.Thread(target=drip) for _ in range(8)]
    for t in drippers:
        t.start()
    time.sleep(0.3)
    for _ in range(20):
        status, out = post_json(port, "/v1/decide", {"input": {"tenant": "a"}})
        check(status == 200 and out["decision"]["route"] == "cheap", f"good request: {out}")
    for t in drippers:
        t.join(15)
    check(len(cut) == 8, f"drip-feeding clients cut off: {len(cut)} of 8")
    check(max(cut) < 5, f"slowest cut-off after {max(cut):.1f}s (read timeout 1 s)")

    # A reload storm: 8 threads x 10 POST /v1/reload while decisions go on.
    codes, errors = [], []

    def reloader():
        for _ in range(10):
            codes.append(request(port, "POST", "/v1/reload", body="")[0])

    storm = [threading.Thread(target=reloader) for _ in range(8)]
    for t in storm:
        t.start()
    for _ in range(50):
        status, _ = post_json(port, "/v1/decide/shop", {"input": {"tenant": "a"}})
        if status != 200:
            errors.append(status)
    for t in storm:
        t.join(30)
    check(codes.count(200) == 80, f"reloads answered: {sorted(set(codes))}")
    check(not errors, f"decisions failed during the reload storm: {errors[:5]}")


def main():
    cli = sys.argv[1]
    check = Check()
    with Workdir() as wd:
        policies = os.path.join(wd.path, "policies")
        os.mkdir(policies)
        with open(os.path.join(policies, "shop.pol"), "w") as f:
            f.write(POLICY)
        serve = Serve(cli, policies, wd.path, "--threads", "2", "--read-timeout", "1",
                      "--max-body", "1048576")
        try:
            pid = serve.proc.pid
            one_round(serve, check)
            after_first = rss_kib(pid)
            for _ in range(2):
                one_round(serve, check)
            after_third = rss_kib(pid)
            print(f"resident memory: {after_first} KiB after one round, {after_third} KiB after three")
            check(after_third - after_first < 8 * 1024,
                  f"memory grew by {after_third - after_first} KiB over two more rounds")
            check(serve.alive(), "server still running")
        finally:
            rc = serve.stop()  # also when a check failed: never leave a server behind
        check(rc == 0, f"exit status {rc}:\n{serve.output()[-2000:]}")
    print(f"serve_hostile_test: ok ({check.count} checks)")


if __name__ == "__main__":
    main()
