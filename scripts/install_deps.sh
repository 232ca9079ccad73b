#!/usr/bin/env bash
# Installs vdit's system dependencies as Debian packages. Idempotent: apt-get runs only
# for packages that are not installed yet. Needs root (or sudo) only when something is missing.
set -euo pipefail
pkgs=(cmake pkg-config build-essential libopenblas-dev libcjson-dev libpng-dev libstb-dev
      libavcodec-dev libavformat-dev libavutil-dev libswscale-dev ffmpeg)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#pkgs[@]} packages present"
  exit 0
fi
echo "install_deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
