#!/usr/bin/env bash
# The cluster tests and benchmarks run a real redis-server (Debian's package), started by the tests
# themselves on free ports. Install it when missing, as ensure-chromium.sh does for the browser;
# the rediss:// test makes its certificates with openssl, installed with it when missing.
set -euo pipefail
if ! command -v openssl >/dev/null; then bash "$(dirname "$0")/apt-install.sh" ensure-redis openssl; fi
REDIS="${TANDEM_REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}"
if [ -x "$REDIS" ]; then exit 0; fi
echo "ensure-redis: $REDIS not found" >&2
bash "$(dirname "$0")/apt-install.sh" ensure-redis redis-server
/usr/bin/redis-server --version
