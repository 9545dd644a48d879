#!/bin/bash
D=$(cd "$(dirname "$0")" && pwd)  # this folder: sources, bin/, raw/ and tmp/ live here
# usage: slowtest.sh PORT  -- 64 slow clients for 20 s; curl at t=2 s and t=10 s (max 15 s each)
PORT=$1
python3 $D/slowloris.py $PORT 64 20 &
SP=$!
sleep 2
echo "[curl@t=2s]  $(curl -s -o /dev/null --max-time 15 -w 'http=%{http_code} time_total=%{time_total}s' http://127.0.0.1:$PORT/ ; echo " exit=$?")"
sleep 6   # -> roughly t=10s (or later if the first curl hung)
echo "[curl@t>=10s] $(curl -s -o /dev/null --max-time 15 -w 'http=%{http_code} time_total=%{time_total}s' http://127.0.0.1:$PORT/ ; echo " exit=$?")"
wait $SP
