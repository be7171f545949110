#!/usr/bin/env bash
# Long, opt-in robustness passes against an in-process share (the default test run has short ones):
#   scripts/fuzz.sh [--seconds N] [--seed S]   the fuzzer (random FUSE requests, descriptor chains, vhost-user
#                                              messages) for N seconds (default 600) with seed S (default: random,
#                                              printed; a failure prints the seed and round to replay)
#   scripts/fuzz.sh --soak [--seconds N]       the random-operation soak with a model comparison for N seconds
#   scripts/fuzz.sh --tree [--files N]         the big-tree lookup pass with N files (default 1000000)
#   scripts/fuzz.sh --loss [--kills N]         frontend loss mid-I/O N times (default 1000)
# Builds tests/VirtioFs.Tests (Release) first. Exit status is the test's.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=fuzz seconds= seed= files=1000000 kills=1000
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --soak) mode=soak; shift ;;
    --tree) mode=tree; shift ;;
    --files) files=$2; shift 2 ;;
    --loss) mode=loss; shift ;;
    --kills) kills=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
case $mode in
  fuzz)
    export VIRTIOFS_FUZZ_SECONDS=${seconds:-600}
    export VIRTIOFS_FUZZ_SEED=${seed:-$((RANDOM * 32768 + RANDOM))}
    echo "fuzz.sh: seed $VIRTIOFS_FUZZ_SEED for $VIRTIOFS_FUZZ_SECONDS s"
    filter="FullyQualifiedName~VirtioFs.Tests.Fuzz." ;;
  soak)
    export VIRTIOFS_SOAK_SECONDS=${seconds:-600}
    filter="FullyQualifiedName~VirtioFs.Tests.Robustness.SoakTests" ;;
  tree)
    export VIRTIOFS_TREE_FILES=$files
    filter="FullyQualifiedName~VirtioFs.Tests.Robustness.ResourceBoundsTests" ;;
  loss)
    export VIRTIOFS_LOSS_KILLS=$kills
    filter="FullyQualifiedName~VirtioFs.Tests.Robustness.FrontendLossTests" ;;
esac
dotnet build tests/VirtioFs.Tests -c Release -nologo -v q
dotnet test tests/VirtioFs.Tests -c Release --no-build -nologo --filter "$filter" --logger "console;verbosity=detailed"
