#!/usr/bin/env bash
# Runs HERE (the development machine, Debian): downloads into .deb/ (ignored by git) the .deb
# files that the GPU machine lacks, for scripts/gpu_check.sh to unpack there (dpkg -x, no root,
# no network). The device call must carry the folder: carry [".deb"].
#
#   always: libcjson1 libcjson-dev libstb0 libstb-dev, and pkgconf (used there only when the
#           machine has no pkg-config of its own)                          (~0.9 MB)
#   FFmpeg: libav{codec,format,util}-dev libsw{scale,resample}-dev and the runtime closure of
#           their shared libraries (read with ldd from the FFmpeg installed here, mapped to
#           packages with dpkg -S), minus the base libraries every Debian/Ubuntu image with
#           Python has (BASE below). That closure is ~50 MB on Debian 12, so by default it is
#           taken only when the whole folder stays under VDIT_DEB_BUDGET_MB (default 40):
#           VDIT_DEB_FFMPEG=auto (default) | 1 (always) | 0 (never). Without it the GPU build
#           simply has no FFmpeg (vdit then writes png/y4m and says so for mp4).
# gpu_check.sh re-checks the FFmpeg closure with ldd on the GPU machine and disables FFmpeg there
# if anything is still missing, so a partial closure can never break the test executables.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.deb
budget_mb=${VDIT_DEB_BUDGET_MB:-40}
want_ffmpeg=${VDIT_DEB_FFMPEG:-auto}
core=(libcjson1 libcjson-dev libstb0 libstb-dev pkgconf pkgconf-bin libpkgconf3)
ffdev=(libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev)
BASE=" libc6 libgcc-s1 libstdc++6 libgomp1 zlib1g liblzma5 libbz2-1.0 libzstd1 libpng16-16 libssl3 libffi8 libgmp10
 libpcre2-8-0 libselinux1 libblkid1 libmount1 libidn2-0 libunistring2 libp11-kit0 libtasn1-6 libnettle8 libhogweed6
 libgnutls30 libkrb5-3 libk5crypto3 libkrb5support0 libgssapi-krb5-2 libcom-err2 libkeyutils1 libmd0 libbsd0 libexpat1
 libuuid1 libcap2 libsystemd0 libgcrypt20 libgpg-error0 liblz4-1 libdb5.3 libcrypt1 libglib2.0-0 libxml2 libicu72 "

command -v apt-get >/dev/null || { echo "fetch_device_debs: apt-get not found (run this on the Debian dev machine)"; exit 1; }
mkdir -p "$dest"
rm -f "$dest"/*.deb
rm -rf "$dest/root"

pkg_size() { apt-cache show --no-all-versions "$1" 2>/dev/null | awk '/^Size:/{print $2; exit}'; }

# FFmpeg runtime closure from the libraries installed here.
ff_pkgs=()
if [ "$want_ffmpeg" != 0 ]; then
  libs=()
  for p in "${ffdev[@]}"; do
    while IFS= read -r f; do libs+=("$f"); done < <(dpkg -L "$p" 2>/dev/null | grep -E '\.so$' || true)
  done
  if [ ${#libs[@]} -eq 0 ]; then
    echo "fetch_device_debs: FFmpeg dev packages are not installed here (scripts/install_deps.sh); skipping FFmpeg"
  else
    mapfile -t sofiles < <(ldd "${libs[@]}" 2>/dev/null | awk '/=>/ && $3 ~ /^\// {print $3}' | sort -u)
    declare -A seen=()
    for p in "${ffdev[@]}"; do seen[$p]=1; ff_pkgs+=("$p"); done
    for f in "${sofiles[@]}"; do
      p=$(dpkg -S "$(readlink -f "$f")" 2>/dev/null | head -1 | cut -d: -f1) || true
      [ -n "$p" ] || continue
      case "$BASE" in *" $p "*) continue ;; esac
      [ -n "${seen[$p]:-}" ] && continue
      seen[$p]=1
      ff_pkgs+=("$p")
    done
  fi
fi

core_b=0; for p in "${core[@]}"; do core_b=$((core_b + $(pkg_size "$p"))); done
ff_b=0; for p in "${ff_pkgs[@]}"; do ff_b=$((ff_b + $(pkg_size "$p"))); done
echo "fetch_device_debs: cJSON + stb + pkgconf: ${#core[@]} packages, $((core_b / 1000)) kB"
echo "fetch_device_debs: FFmpeg closure: ${#ff_pkgs[@]} packages, $((ff_b / 1000000)) MB"
pkgs=("${core[@]}")
if [ ${#ff_pkgs[@]} -gt 0 ]; then
  if [ "$want_ffmpeg" = 1 ] || [ $(((core_b + ff_b) / 1000000)) -lt "$budget_mb" ]; then
    pkgs+=("${ff_pkgs[@]}")
  else
    echo "fetch_device_debs: FFmpeg left out: $(((core_b + ff_b) / 1000000)) MB would pass the ${budget_mb} MB budget" \
         "(VDIT_DEB_FFMPEG=1 takes it anyway; the device call carries at most 64 MiB with the repo)"
  fi
fi
(cd "$dest" && apt-get download -q "${pkgs[@]}" >/dev/null 2> >(grep -v "unsandboxed" >&2))
n=$(ls "$dest"/*.deb | wc -l)
echo "fetch_device_debs: $n .deb files in $dest/, $(du -sh "$dest" | cut -f1) total:"
ls "$dest"/*.deb | sed 's|.*/|  |'
