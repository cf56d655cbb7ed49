#!/usr/bin/env bash
# Runs the bridge-mode benchmarks of issue 15, item 8 (benchmarks/.../benchmarks/bridge/) against
# the dev Synapse and prints the machine, the load and every result line; docs/PERFORMANCE.md,
# section "Bridge mode (issue 15)", records a run. The ghosts it creates stay on the dev server
# (rm -rf .run/synapse after `dev-homeserver.sh stop` resets it).
#
#   BENCH_ROOMS=100 BENCH_PER_ROOM=10   one transaction of ROOMS * PER_ROOM encrypted events
#   BENCH_REPEATS=10                    measured transactions (after 2 warm-ups)
#   BENCH_GHOSTS=1000                   ghost devices to create and key
#   BENCH_MVN_FLAGS=                    flags of the build (default -o: offline, from ~/.m2)
#
# Do not run it while the example bridge (scripts/bridge.sh) or the end-to-end tests listen on the
# registration's url: the benchmark's appservice listens there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d /tmp/mxe2ee-bench-bridge.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
log() { echo "[bench-bridge] $*" >&2; }

log "building (mvn ${BENCH_MVN_FLAGS--o} -pl benchmarks -am -DskipTests package)"
(cd "$ROOT" && mvn -B -q ${BENCH_MVN_FLAGS--o} -pl benchmarks -am -DskipTests package dependency:build-classpath \
  -Dmdep.outputFile="$WORK/cp.txt" >"$WORK/mvn.log" 2>&1) || { cat "$WORK/mvn.log" >&2; exit 1; }
CP="$ROOT/benchmarks/target/classes:$(cat "$WORK/cp.txt")"
url="$(bash "$ROOT/scripts/dev-homeserver.sh" start)"

echo "date (UTC): $(date -u '+%Y-%m-%d %H:%M:%S')"
echo "nproc: $(nproc)"
lscpu | head -20 | grep -v "^Flags"
free -m | head -2
java -version 2>&1
echo "homeserver: $url (Synapse from scripts/dev-homeserver.sh)"
echo "load before: $(uptime)"
args=("$url" "$ROOT/.run/synapse/appservice-registration.yaml" "$WORK/bridge"
  "${BENCH_ROOMS:-100}" "${BENCH_PER_ROOM:-10}" "${BENCH_REPEATS:-10}" "${BENCH_GHOSTS:-1000}")
echo "\$ java io.github.mxe2ee.benchmarks.bridge.BridgeBenchmark ${args[*]}"
# One line per log record; the plugin's INFO lines are left out of the report.
java -Djava.util.logging.SimpleFormatter.format='%4$s %3$s: %5$s%6$s%n' -cp "$CP" \
  io.github.mxe2ee.benchmarks.bridge.BridgeBenchmark "${args[@]}" 2>&1 | grep -v '^INFO ' || true
echo "load after: $(uptime)"
