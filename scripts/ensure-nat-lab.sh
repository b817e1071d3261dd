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
if [ "$(id -u)" != "0" ] && ! { command -v sudo >/dev/null && sudo -n true 2>/dev/null; }; then
  echo "ensure-nat-lab: ${need[*]} missing and no root: the NAT lab test will report itself skipped" >&2; exit 0
fi
bash "$(dirname "$0")/apt-install.sh" ensure-nat-lab "${need[@]}"
turnserver --version 2>/dev/null | head -1 || true
