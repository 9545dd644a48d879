#!/bin/bash
D=$(cd "$(dirname "$0")" && pwd)  # this folder: sources, bin/, raw/ and tmp/ live here
# usage: run_one.sh LABEL PORT CMD...   starts exactly one server, benches it, stops it
L=$1; PORT=$2; shift 2
if ss -ltn | grep -qE '127.0.0.1:808[0-9]'; then echo "another bench server is listening!"; ss -ltnp | grep 808; exit 1; fi
"$@" > $D/logs/$L.server.log 2>&1 &
SPID=$!; sleep 0.5
echo "### $L  (server pid $SPID: $*)"
$D/bench.sh $L $PORT
kill $SPID; wait $SPID 2>/dev/null
sleep 0.3; ss -ltn | grep -q ":$PORT " && echo "WARNING: port $PORT still listening"
