#!/usr/bin/env bash
# The wire-v1 peer test pairs a tandem client with a small client written as the seed's stage 4
# describes, on aiortc (Debian's python3-aiortc, with python3-websockets). Install them when missing.
set -euo pipefail
# Debian's own python (a python3 earlier in PATH, e.g. pyenv's, does not see Debian's modules)
if /usr/bin/python3 -c 'import aiortc, websockets' 2>/dev/null; then exit 0; fi
bash "$(dirname "$0")/apt-install.sh" ensure-aiortc python3-aiortc python3-websockets
/usr/bin/python3 -c 'import aiortc, websockets; print("aiortc", aiortc.__version__, "websockets", websockets.__version__)'
