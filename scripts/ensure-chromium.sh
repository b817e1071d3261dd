#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (never a downloaded browser). Install it when missing.
set -euo pipefail
CHROMIUM="${TANDEM_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then exit 0; fi
echo "ensure-chromium: $CHROMIUM not found" >&2
bash "$(dirname "$0")/apt-install.sh" ensure-chromium chromium fonts-dejavu-core
"$CHROMIUM" --version
