#!/usr/bin/env bash
# Profiles mxe2ee's crypto hot paths with JFR (through JMH's jfr profiler, 10 ms sampling) and
# prints, per benchmark, the share of samples spent in each layer (scripts/jfr_summary.py).
#
#   scripts/profile.sh                      # Megolm, Olm and batch-verify benchmarks
#   scripts/profile.sh 'MegolmBenchmark.decrypt$'
#
# Shares are proportions of the benchmark thread's samples, so they hold under load too.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${BENCH_WORKDIR:-$(mktemp -d /tmp/mxe2ee-profile.XXXXXX)}"
INCLUDE="${1:-MegolmBenchmark|OlmBenchmark|BatchVerifyBenchmark.backlogBatchVerify$}"
(cd "$ROOT" && mvn -B -q -pl benchmarks -am -DskipTests package dependency:build-classpath \
  -Dmdep.outputFile="$WORK/jmh.classpath" >"$WORK/mvn.log" 2>&1) || { cat "$WORK/mvn.log" >&2; exit 1; }
rm -rf "$WORK/jfr"
java -cp "$ROOT/benchmarks/target/classes:$(cat "$WORK/jmh.classpath")" org.openjdk.jmh.Main "$INCLUDE" \
  -f 1 -wi 2 -i 3 -w 1 -r 3 -prof "jfr:dir=$WORK/jfr;configName=profile" >"$WORK/jmh.log" 2>&1 \
  || { tail -30 "$WORK/jmh.log" >&2; exit 1; }
LAYERS=(
  io.github.mxe2ee.crypto.Ed25519PublicKey.verify
  io.github.mxe2ee.crypto.Ed25519SecretKey.sign
  io.github.mxe2ee.crypto.Curve25519SecretKey.diffieHellman
  'io.github.mxe2ee.crypto.Curve25519SecretKey.<init>'
  io.github.mxe2ee.crypto.Hkdf
  io.github.mxe2ee.crypto.HmacSha256
  io.github.mxe2ee.crypto.Aes256Cbc
  io.github.mxe2ee.megolm.MessageKeys
  io.github.mxe2ee.megolm.Ratchet
  io.github.mxe2ee.crypto.Ed25519BatchVerifier.decompress
  io.github.mxe2ee.crypto.Ed25519BatchVerifier.multiScalarMultiply
  java.security.MessageDigest
  java.math.BigInteger
)
for f in $(find "$WORK/jfr" -name '*.jfr' | sort); do
  name="$(basename "$(dirname "$f")")"
  name="${name%-AverageTime}"
  jfr print --events jdk.ExecutionSample --stack-depth 64 "$f" >"$WORK/${name##*.}.samples"
  echo "== ${name#io.github.mxe2ee.benchmarks.}"
  python3 "$ROOT/scripts/jfr_summary.py" "$WORK/${name##*.}.samples" --focus "$name" --top 6 \
    --inclusive "${LAYERS[@]}" | awk '!/^ +0\.0%/'
done
echo "(raw recordings in $WORK/jfr)"
