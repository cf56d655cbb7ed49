#!/usr/bin/env bash
# Runs the plugin benchmarks of issue 12, item 10 (benchmarks/.../benchmarks/plugin/) and prints
# the machine, the load before and after, and every result line; docs/PERFORMANCE.md, section
# "Plugin (issue 12)", records a run. About 6 minutes on 2 cores.
#
#   scripts/bench-plugin.sh             # everything
#   BENCH_SECONDS=30 BENCH_WARMUP=10    # measured and warm-up seconds of each latency run
#   BENCH_SESSIONS=100000               # inbound sessions of the cold-start store
#   BENCH_RUNS=5                        # fresh JVMs for the cold start
#   BENCH_IDLE=30                       # idle seconds before the memory is read
#   BENCH_MVN_FLAGS=                    # flags of the build (default -o: offline, from ~/.m2)
#
# The store of 100,000 sessions is built once into a throwaway folder (BENCH_WORKDIR, default a
# fresh mktemp -d) and deleted at the end unless BENCH_WORKDIR was given.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_MEASURED="${BENCH_SECONDS:-30}"
WARMUP="${BENCH_WARMUP:-10}"
SESSIONS="${BENCH_SESSIONS:-100000}"
RUNS="${BENCH_RUNS:-5}"
IDLE="${BENCH_IDLE:-30}"
WORK="${BENCH_WORKDIR:-$(mktemp -d /tmp/mxe2ee-bench-plugin.XXXXXX)}"
mkdir -p "$WORK"
log() { echo "[bench-plugin] $*" >&2; }

log "building (mvn ${BENCH_MVN_FLAGS--o} -pl benchmarks -am -DskipTests package)"
(cd "$ROOT" && mvn -B -q ${BENCH_MVN_FLAGS--o} -pl benchmarks -am -DskipTests package dependency:build-classpath \
  -Dmdep.outputFile="$WORK/cp.txt" >"$WORK/mvn.log" 2>&1) || { cat "$WORK/mvn.log" >&2; exit 1; }
CP="$ROOT/benchmarks/target/classes:$(cat "$WORK/cp.txt")"
run() { echo "\$ java ${*}"; java -cp "$CP" "$@" 2>&1 | grep -v '^WARNING\|^SLF4J' ; }

echo "date (UTC): $(date -u '+%Y-%m-%d %H:%M:%S')"
echo "nproc: $(nproc)"
lscpu | head -20 | grep -v "^Flags"
free -m | head -2
java -version 2>&1
echo "load before: $(uptime)"
echo
echo "## 1. latency at 1,000 encrypted events/s"
P=io.github.mxe2ee.benchmarks.plugin
run $P.PluginLatencyBenchmark 50 50 "$SECONDS_MEASURED" "$WARMUP"
run $P.PluginLatencyBenchmark 10 10 "$SECONDS_MEASURED" "$WARMUP"
run $P.PluginLatencyBenchmark 1 1 "$SECONDS_MEASURED" "$WARMUP"
echo "load: $(uptime)"
echo
echo "## 2. cold start, $SESSIONS inbound sessions"
if [ ! -f "$WORK/store/bot.db" ]; then
  run $P.ColdStartBenchmark build "$WORK/store" "$SESSIONS"
fi
if [ ! -f "$WORK/small/bot.db" ]; then
  run $P.ColdStartBenchmark build "$WORK/small" 1
fi
for i in $(seq 1 "$RUNS"); do
  run $P.ColdStartBenchmark run "$WORK/store" 3
done
echo "(store with 1 session, for comparison)"
for i in 1 2 3; do
  run $P.ColdStartBenchmark run "$WORK/small" 1
done
echo "load: $(uptime)"
echo
echo "## 3. idle bot memory"
run $P.IdleMemoryBenchmark fresh "$IDLE" 1000
run $P.IdleMemoryBenchmark "$WORK/store" "$IDLE" 1000
echo "load after: $(uptime)"
if [ -z "${BENCH_WORKDIR:-}" ]; then
  rm -rf "$WORK"
fi
