#!/usr/bin/env bash
# The call tests make media files with Debian's ffmpeg (a test pattern encoded as VP8 in WebM) and
# check recordings with its ffprobe. Install the package when either is missing.
set -euo pipefail
if command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null; then exit 0; fi
echo "ensure-ffmpeg: ffmpeg/ffprobe not found" >&2
bash "$(dirname "$0")/apt-install.sh" ensure-ffmpeg ffmpeg
ffprobe -version | head -1
