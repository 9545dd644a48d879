#!/bin/bash
D=$(cd "$(dirname "$0")" && pwd)  # this folder: sources, bin/, raw/ and tmp/ live here
# usage: bench.sh LABEL PORT   (server must already be running, alone)
L=$1; PORT=$2; R=$D/raw; URL=http://127.0.0.1:$PORT/
for i in 1 2; do
  echo "== $L wrk run $i: wrk -t1 -c32 -d5s --latency $URL"
  wrk -t1 -c32 -d5s --latency $URL
done > $R/$L.wrk.txt 2>&1
for tot in 1000 5000 20000; do
  rps=$(python3 -c "print($tot/16)")
  echo "== $L h2load total=$tot rps/client=$rps: h2load --h1 -c 16 -t 1 --rps $rps -D 5 --log-file $R/$L.h2load.$tot.log $URL"
  rm -f $R/$L.h2load.$tot.log; timeout 10 h2load --h1 -c 16 -t 1 --rps $rps -D 5 --log-file $R/$L.h2load.$tot.log $URL | grep -E 'finished|requests:|status codes|time for request'
  echo -n "pct: "; python3 $D/pct.py $R/$L.h2load.$tot.log
done > $R/$L.h2load.txt 2>&1
echo "== $L slow-client test: slowtest.sh $PORT" > $R/$L.slow.txt
$D/slowtest.sh $PORT >> $R/$L.slow.txt 2>&1
grep -E "^==|Requests/sec|  50%|  99%|Socket errors" $R/$L.wrk.txt; grep -E "^==|finished|time for|pct" $R/$L.h2load.txt; cat $R/$L.slow.txt
