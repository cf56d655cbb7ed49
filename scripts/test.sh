#!/usr/bin/env bash
# The test command: installs what is needed (scripts/setup.sh), then runs every test (mvn -B verify).
# Tests that need Synapse start it through scripts/dev-homeserver.sh and stop what they started.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
mvn -B verify "$@"
