#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (see README):
#   ./run.sh demo   install what is missing, build, dry-run a policy diff on the bundled traffic
#   ./run.sh test   install what is missing, build, run every test (what CI runs)
# Other verbs: deps, build, bench, tsan, fuzz.
set -euo pipefail
cd "$(dirname "$0")"

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}

# Debian packages the build, the tests and the examples need. Why each is here: README "Dependencies".
PACKAGES=(
  build-essential cmake ninja-build pkg-config git python3
  antlr4 default-jre-headless libantlr4-runtime-dev uuid-dev
  llvm-19-dev libzstd-dev zlib1g-dev zstd
  nlohmann-json3-dev libfmt-dev robin-map-dev catch2 libbenchmark-dev libgtest-dev
  libhiredis-dev redis-server
  libboost-dev nginx-light nghttp2-client wrk
  clang-19 libclang-rt-19-dev
)

deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  echo "==> installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
  # The redis-server package starts a system service; our tests start their own on loopback.
  if command -v systemctl >/dev/null 2>&1; then $sudo systemctl stop redis-server 2>/dev/null || true; fi
}

configure() {
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
}

build() {
  configure "$@"
  ninja -C "$BUILD_DIR" -j "$JOBS"
}

# The demo needs the CLI and its libraries only, not the tests and benchmarks.
build_cli() {
  configure
  ninja -C "$BUILD_DIR" -j "$JOBS" tollgate
}

demo() {
  local cli="$BUILD_DIR/tollgate"
  echo "==> tollgate test policies/"
  "$cli" test policies/
  echo
  echo "==> tollgate dryrun: policies/gateway.pol -> policies/gateway_v2.pol on examples/traffic"
  "$cli" dryrun --base policies/gateway.pol --head policies/gateway_v2.pol \
    --log examples/traffic/gateway_traffic.jsonl.zst --prices examples/data/prices.json \
    --format text
  "$cli" dryrun --base policies/gateway.pol --head policies/gateway_v2.pol \
    --log examples/traffic/gateway_traffic.jsonl.zst --prices examples/data/prices.json \
    --format html --out "$BUILD_DIR/dryrun-report.html" >/dev/null
  echo "HTML report: $BUILD_DIR/dryrun-report.html"
}

unit_tests() {
  (cd "$BUILD_DIR" && ctest --output-on-failure -j "$JOBS" --timeout 1200)
}

# ThreadSanitizer build of the concurrency tests (ledger, hot reload, shadow).
tsan() {
  local dir="${BUILD_DIR}-tsan"
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOLLGATE_SANITIZE=thread \
    -DTOLLGATE_BENCH=OFF
  local targets
  targets=$(cd tests/unit && ls *_concurrency_test.cpp *_stress_test.cpp 2>/dev/null | sed 's/\.cpp$//' | tr '\n' ' ')
  [ -n "$targets" ] || { echo "no concurrency tests"; return 0; }
  ninja -C "$dir" -j "$JOBS" $targets
  for t in $targets; do
    echo "==> TSan: $t"
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" "$dir/$t"
  done
}

# A short libFuzzer run of each fuzz target (ASan+UBSan, clang-19). FUZZ_SECONDS to lengthen.
fuzz() {
  local dir="${BUILD_DIR}-fuzz" secs=${FUZZ_SECONDS:-30}
  CC=clang-19 CXX=clang++-19 cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTOLLGATE_FUZZ=ON -DTOLLGATE_TESTS=OFF -DTOLLGATE_BENCH=OFF
  local targets
  targets=$(cd tests/fuzz && ls *_fuzz.cpp 2>/dev/null | sed 's/\.cpp$//' | tr '\n' ' ')
  ninja -C "$dir" -j "$JOBS" $targets
  for t in $targets; do
    echo "==> fuzz: $t for ${secs}s"
    mkdir -p "$dir/corpus-$t"
    # Seeds: tests/fuzz/corpus_<target> when the target reads something other than policies.
    local seeds=tests/fuzz/corpus
    [ -d "tests/fuzz/corpus_$t" ] && seeds="tests/fuzz/corpus_$t"
    (cd "$dir" && "./$t" -seed=1 -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 "corpus-$t" \
      "$OLDPWD/$seeds")
  done
}

bench() {
  for b in "$BUILD_DIR"/*_bench; do
    echo "==> $b"
    "$b" --benchmark_min_time=0.5
  done
}

case "${1:-}" in
  deps) deps ;;
  build) deps; build ;;
  demo) deps; build_cli; demo ;;
  test) deps; build; unit_tests; tsan; fuzz ;;
  bench) deps; build; bench ;;
  tsan) deps; tsan ;;
  fuzz) deps; fuzz ;;
  *) echo "usage: ./run.sh demo|test|build|bench|tsan|fuzz|deps" >&2; exit 2 ;;
esac
