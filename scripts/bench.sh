#!/usr/bin/env bash
# Runs mxe2ee's crypto-core benchmarks side by side with vodozemac (native Rust, from crates.io)
# and libolm (native C, Debian's libolm-dev), in one run on this machine, and prints one table.
#
#   scripts/bench.sh            # build and run everything, print the table
#   scripts/bench.sh --write    # ... and update the "Crypto core" section of docs/PERFORMANCE.md
#   scripts/bench.sh --quick    # 1 JMH fork, short iterations (a smoke test, not for the doc)
#   BENCH_ONLY=ed25519 scripts/bench.sh   # only ops whose name starts with the given prefix
#   BENCH_NICE=-10 scripts/bench.sh       # run the three benchmarks under `nice -n -10` (root) so
#                                         # that other users' builds disturb them less; recorded
#
# The native benchmarks (bench/native/, our own small programs) are copied to a throwaway folder
# outside the source tree (BENCH_WORKDIR, default a fresh mktemp -d; set it to reuse the Rust
# build between runs) and built there; nothing built is written into the repository.
# Total run time is about 6-8 minutes on 2 cores (a first Rust build adds ~2 minutes).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WRITE=0
QUICK=0
for arg in "$@"; do
  case "$arg" in
    --write) WRITE=1 ;;
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done
WORK="${BENCH_WORKDIR:-$(mktemp -d /tmp/mxe2ee-bench.XXXXXX)}"
mkdir -p "$WORK"
ONLY="${BENCH_ONLY:-}"
COMMAND="$( (env | grep -E '^BENCH_(NICE|ONLY)=' || true) | tr '\n' ' ')scripts/bench.sh${*:+ $*}"
log() { echo "[bench] $*" >&2; }

log "work folder: $WORK"
LOAD_BEFORE="$(uptime | sed 's/.*load average: //')"
log "load before: $LOAD_BEFORE"

# ---------- build: vodozemac ----------
command -v cargo >/dev/null || { echo "cargo not found (install Rust)" >&2; exit 1; }
rm -rf "$WORK/vodozemac-bench.src"
cp -r "$ROOT/bench/native/vodozemac-bench" "$WORK/vodozemac-bench.src"
log "building vodozemac bench (cargo build --release)"
(cd "$WORK/vodozemac-bench.src" && CARGO_TARGET_DIR="$WORK/cargo-target" cargo build --release --locked -q)
VZ_BIN="$WORK/cargo-target/release/mxe2ee-vodozemac-bench"

# ---------- build: libolm ----------
if [ ! -f /usr/include/olm/olm.h ]; then
  log "installing Debian's libolm-dev"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq libolm-dev >/dev/null
fi
rm -rf "$WORK/libolm-bench"
cp -r "$ROOT/bench/native/libolm-bench" "$WORK/libolm-bench"
log "building libolm bench (cc ... -lolm)"
make -s -C "$WORK/libolm-bench"
OLM_BIN="$WORK/libolm-bench/libolm-bench"

# ---------- build: mxe2ee JMH ----------
log "building mxe2ee benchmarks (mvn -pl benchmarks -am package)"
(cd "$ROOT" && mvn -B -q -pl benchmarks -am -DskipTests package dependency:build-classpath \
  -Dmdep.outputFile="$WORK/jmh.classpath" >"$WORK/mvn.log" 2>&1) || { cat "$WORK/mvn.log" >&2; exit 1; }
JMH_CP="$ROOT/benchmarks/target/classes:$(cat "$WORK/jmh.classpath")"

# ---------- machine ----------
MACHINE="$WORK/machine.md"
{
  echo "Machine and toolchains of this run:"
  echo
  echo '```'
  echo "date (UTC): $(date -u '+%Y-%m-%d %H:%M:%S')"
  echo "nproc: $(nproc)"
  lscpu | head -20
  java -version 2>&1
  rustc --version
  cc --version | head -1
  echo "vodozemac: $(grep -A1 'name = "vodozemac"' "$ROOT/bench/native/vodozemac-bench/Cargo.lock" | sed -n 2p | tr -d ' ')"
  echo "libolm: $(dpkg-query -W -f='${Package} ${Version}' libolm3 2>/dev/null || echo unknown)"
  echo "curve arithmetic: mxe2ee's own (io.github.mxe2ee.crypto.curve; Bouncy Castle is a test-only reference)"
} >"$MACHINE"

# ---------- run ----------
START=$(date +%s)
NICE=()
if [ -n "${BENCH_NICE:-}" ]; then NICE=(nice -n "$BENCH_NICE"); fi
run_natives() {
  log "running vodozemac ($1)"
  "${NICE[@]}" "$VZ_BIN" $ONLY | tee -a "$WORK/vodozemac.jsonl" >&2
  log "running libolm ($1)"
  "${NICE[@]}" "$OLM_BIN" $ONLY | tee -a "$WORK/libolm.jsonl" >&2
}
rm -f "$WORK/vodozemac.jsonl" "$WORK/libolm.jsonl"
run_natives "before JMH"
log "running mxe2ee (JMH)"
JMH_ARGS=(-rf json -rff "$WORK/jmh.json" -prof io.github.mxe2ee.benchmarks.CpuTimeProfiler)
if [ "$QUICK" = 1 ]; then JMH_ARGS+=(-f 1 -wi 1 -i 2 -w 1 -r 1); fi
JMH_INCLUDE="io.github.mxe2ee.benchmarks.*"
if [ -n "$ONLY" ]; then
  # Map an op prefix onto the JMH classes that contain it.
  case "$ONLY" in
    ed25519*|x25519*) JMH_INCLUDE="PrimitivesBenchmark" ;;
    megolm*) JMH_INCLUDE="MegolmBenchmark" ;;
    olm*) JMH_INCLUDE="OlmBenchmark" ;;
  esac
fi
"${NICE[@]}" java -cp "$JMH_CP" org.openjdk.jmh.Main "$JMH_INCLUDE" "${JMH_ARGS[@]}" >"$WORK/jmh.log" 2>&1 \
  || { tail -40 "$WORK/jmh.log" >&2; exit 1; }
grep -E '^(Benchmark|[A-Za-z]+Benchmark\.)' "$WORK/jmh.log" >&2 || true
run_natives "after JMH"
END=$(date +%s)
LOAD_AFTER="$(uptime)"
log "load after: $LOAD_AFTER"
{
  echo
  echo "Load average (1/5/15 min) at the end of the run: ${LOAD_AFTER##*load average: }"
  echo "(2 cores shared with other developers; a load above ~1 inflates every column)."
  echo "Load average at the start: $LOAD_BEFORE"
  if [ -n "${BENCH_NICE:-}" ]; then echo "Priority: nice -n $BENCH_NICE"; else echo "Priority: default (nice 0)"; fi
  echo "Native columns: mean of two runs, one before and one after JMH (drift between them: see"
  echo "the warnings printed by the report, if any)."
  echo "Run time of the three benchmarks: $((END - START)) s. JMH settings: per class annotations"
  echo "(2 forks x 5 warm-up + 5 measured 1-second iterations) unless the command says --quick."
  echo '```'
  echo
  echo "Command: \`$COMMAND\`"
} >>"$MACHINE"

# ---------- report ----------
REPORT_ARGS=(--vodozemac "$WORK/vodozemac.jsonl" --libolm "$WORK/libolm.jsonl" --jmh "$WORK/jmh.json" --machine "$MACHINE")
if [ "$WRITE" = 1 ]; then REPORT_ARGS+=(--write "$ROOT/docs/PERFORMANCE.md"); fi
python3 "$ROOT/scripts/bench_report.py" "${REPORT_ARGS[@]}"
echo
cat "$MACHINE"
log "raw results kept in $WORK"
