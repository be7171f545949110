#!/usr/bin/env bash
# Builds Release and runs the benchmark: the same FUSE workloads against our share and the C virtiofsd, side by side.
#   scripts/bench.sh            full run, about 5 minutes on 2 cores
#   scripts/bench.sh --quick    about 1 minute
#   scripts/bench.sh --help     every option (--runs, --seconds, --workloads, --markdown FILE, ...)
# Run it on an otherwise idle machine: the load driver and the daemons share the cores, and anything else running
# shows up in the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "note: not root; /usr/lib/qemu/virtiofsd needs root for its namespace sandbox and may refuse to start" >&2
fi
# Quiet builds; a failed one shows its errors and stops here.
build() { local log; log=$(dotnet build "$1" -c Release -nologo -v quiet 2>&1) || { echo "$log" >&2; exit 1; }; }
build src/Host/VirtioFs.Host.csproj
build bench/VirtioFs.Bench.csproj
exec dotnet bench/bin/Release/net10.0/VirtioFs.Bench.dll "$@"
