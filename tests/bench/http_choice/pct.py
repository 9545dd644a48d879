#!/usr/bin/env python3
# p50/p99/max from an h2load --log-file (col3 = usec until end of response)
import sys
v = []; bad = 0
for line in open(sys.argv[1]):
    f = line.split('\t')
    if len(f) < 3: continue
    if f[1] != '200': bad += 1
    v.append(int(f[2]))
v.sort(); n = len(v)
p = lambda q: v[min(n - 1, int(q * n))] / 1000.0
print(f"n={n} non200={bad} p50={p(.50):.3f}ms p90={p(.90):.3f}ms p99={p(.99):.3f}ms max={v[-1]/1000.0:.3f}ms")
