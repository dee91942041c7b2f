#!/usr/bin/env bash
# Installs what the test suite needs beyond Go, idempotently: Debian's
# libonnx-testdata (the ONNX project's backend test cases), chromium and
# firefox-esr (the web studio's browser tests), ffmpeg (video in and out).
set -euo pipefail

need=()
[ -d /usr/share/libonnx-testdata/data/node ] || need+=(libonnx-testdata)
command -v chromium >/dev/null || need+=(chromium)
command -v firefox-esr >/dev/null || need+=(firefox-esr)
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || need+=(ffmpeg)
[ ${#need[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: installing ${need[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
