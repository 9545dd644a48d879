"""Helpers for the tollgate serve integration tests: start the real server, nginx and
redis-server on loopback ports, talk HTTP with the standard library, and always clean up.

Every wait here is bounded; a test that cannot start a component fails with its log."""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, predicate, timeout=10.0, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def request(port, method, path, body=None, headers=None, timeout=5.0):
    """One request on a fresh connection: (status, headers dict with lower-case names, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = body if body is None or isinstance(body, (bytes, str)) else json.dumps(body)
        conn.request(method, path, body=data, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode("utf-8")
    finally:
        conn.close()


def post_json(port, path, body):
    status, _, text = request(port, "POST", path, body)
    return status, json.loads(text)


class Workdir:
    """A temporary directory removed on exit."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="tollgate-it-")
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)

    def write(self, name, text):
        p = os.path.join(self.path, name)
        tmp = p + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, p)  # atomic, as an editor or a deploy tool writes
        return p


class Process:
    """A child process with its output in a log file; terminate() then kill() on exit."""

    def __init__(self, argv, log_path):
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)

    def output(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Signals the process, waits, and returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        return self.proc.returncode


class Serve(Process):
    """`tollgate serve ROOT --listen 127.0.0.1:0 --port-file ...` ready to answer."""

    def __init__(self, cli, root, workdir, *flags, name="serve"):
        self.port_file = os.path.join(workdir, name + ".port")
        argv = [cli, "serve", root, "--listen", "127.0.0.1:0", "--port-file", self.port_file]
        super().__init__(argv + list(flags), os.path.join(workdir, name + ".log"))

        def up():
            if not self.alive():
                raise AssertionError("tollgate serve exited:\n" + self.output())
            return os.path.exists(self.port_file) and os.path.getsize(self.port_file) > 0

        wait_until("tollgate serve to listen", up)
        with open(self.port_file) as f:
            self.port = int(f.read().strip())

    def metric(self, name, labels=""):
        """The value of one sample of /metrics (labels as written, e.g. 'state="ok"')."""
        _, _, text = request(self.port, "GET", "/metrics")
        want = name + ("{" + labels + "}" if labels else "")
        for line in text.splitlines():
            if line.startswith(want + " "):
                return float(line.split()[-1])
        return None


def require(tool):
    path = shutil.which(tool) or (os.path.exists("/usr/sbin/" + tool) and "/usr/sbin/" + tool)
    if not path:
        raise AssertionError(f"{tool} is not installed (./run.sh deps installs it)")
    return path


class Check:
    """Counts assertions so a test that checked nothing cannot pass."""

    def __init__(self):
        self.count = 0

    def __call__(self, cond, message):
        self.count += 1
        if not cond:
            raise AssertionError(message)
