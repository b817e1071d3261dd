#!/usr/bin/env bash
# The NAT traversal lab (issue 17) builds symmetric NATs with Debian's iptables and relays through
# Debian's coturn, both started by the tests themselves inside network namespaces. Install them
# when missing, as ensure-chromium.sh does for the browser. Without root the lab test reports
# itself skipped (with the reason), so a missing package is not an error there.
set -euo pipefail
need=()
command -v iptables >/dev/null || [ -x /usr/sbin/iptables ] || need+=(iptables)
command -v turnserver >/dev/null || [ -x /usr/bin/turnserver ] || need+=(coturn)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "ensure-nat-lab: ${need[*]} missing and no root: the NAT lab test will report itself skipped" >&2; exit 0
  fi
fi
echo "ensure-nat-lab: installing Debian's ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# the packages' own services are not wanted (tests start their own turnserver)
if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null; $SUDO chmod +x /usr/sbin/policy-rc.d; REMOVE_POLICY=1; fi
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
if [ "${REMOVE_POLICY:-}" = 1 ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
turnserver --version 2>/dev/null | head -1 || true
