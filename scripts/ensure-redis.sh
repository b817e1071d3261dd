#!/usr/bin/env bash
# The cluster tests and benchmarks run a real redis-server (Debian's package), started by the tests
# themselves on free ports. Install it when missing, as ensure-chromium.sh does for the browser.
set -euo pipefail
REDIS="${TANDEM_REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}"
if [ -x "$REDIS" ]; then exit 0; fi
echo "ensure-redis: $REDIS not found; installing Debian's redis-server package" >&2
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null; then SUDO="sudo -n"; else echo "ensure-redis: need root (or sudo) to apt-get install redis-server" >&2; exit 1; fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# --no-install-recommends and policy-rc.d: the package's own service is not wanted (tests start their own)
if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null; $SUDO chmod +x /usr/sbin/policy-rc.d; REMOVE_POLICY=1; fi
$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
if [ "${REMOVE_POLICY:-}" = 1 ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
/usr/bin/redis-server --version
