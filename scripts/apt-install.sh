#!/usr/bin/env bash
# Install Debian packages for the project's own ensure-* scripts: apt-install.sh <caller> <package>...
# Needs root or passwordless sudo. Packaged services stay down (tests start their own processes).
set -euo pipefail
caller="$1"; shift
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "$caller: need root (or sudo) to apt-get install $*" >&2; exit 1
  fi
fi
echo "$caller: installing Debian's $*" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
REMOVE_POLICY=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  REMOVE_POLICY=1
fi
trap '[ -n "$REMOVE_POLICY" ] && $SUDO rm -f /usr/sbin/policy-rc.d' EXIT
$SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
