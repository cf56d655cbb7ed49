#!/usr/bin/env bash
# The mxe2ee operator tool (docs/IDENTITY.md, "Verify a device by fingerprint"): shows the bot's
# fingerprint and identity, and signs an own device whose fingerprint you compared. Stop the bot
# first (its store is locked while it runs). Examples, for the echo bot of scripts/demo.sh:
#   bash scripts/mxe2ee.sh --user @echobot:localhost --device-id ECHOBOT \
#        --store-dir .run/echo-bot/@echobot:localhost_ECHOBOT status
#   MXE2EE_PASSWORD=... bash scripts/mxe2ee.sh --user @echobot:localhost --device-id ECHOBOT \
#        --store-dir .run/echo-bot/@echobot:localhost_ECHOBOT --homeserver http://127.0.0.1:8008 \
#        verify-device OPERATORDEVICE "abcd efgh ..."
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ ! -f examples/target/classpath.txt || ! -d examples/target/classes ]]; then
  echo "[mxe2ee] building (mvn package, tests skipped)" >&2
  mvn -B -q -DskipTests package
fi
cp="examples/target/classes:$(cat examples/target/classpath.txt)"
exec java -cp "$cp" io.github.mxe2ee.examples.cli.Mxe2eeCli "$@"
