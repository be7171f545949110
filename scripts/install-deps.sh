#!/usr/bin/env bash
# Installs the Debian packages the tests and the demo need, only when something is missing.
set -euo pipefail
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /usr/lib/qemu/virtiofsd ] || need+=(qemu-system-common)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v cpio >/dev/null || need+=(cpio)
command -v python3 >/dev/null || need+=(python3)
command -v node >/dev/null || need+=(nodejs npm)
command -v dotnet >/dev/null || { echo "dotnet (the .NET SDK 8 or later) is required; install it first" >&2; exit 1; }
if [ ${#need[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "installing: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
