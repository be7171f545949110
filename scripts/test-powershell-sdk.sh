#!/usr/bin/env bash
# The opt-in in-process PowerShell tests (tests/PowerShellSdk): an xunit project that hosts PowerShell with
# Microsoft.PowerShell.SDK, imports the staged module and runs the cmdlets. Our build machines' package registry does
# not serve Microsoft.PowerShell.SDK, so this is not part of the default test run; where the package restores, it runs.
# Prints "PASS powershell-sdk ..." or "FAIL powershell-sdk: ...".
set -uo pipefail
cd "$(dirname "$0")/.."
project=tests/PowerShellSdk/VirtioFs.PowerShell.Tests.csproj
mkdir -p out/test-results
scripts/stage-module.sh Release >/dev/null || { echo "FAIL powershell-sdk: the module could not be staged (scripts/stage-module.sh)"; exit 1; }
if ! restore=$(timeout 600 dotnet restore "$project" 2>&1); then
  echo "FAIL powershell-sdk: Microsoft.PowerShell.SDK does not restore from this machine's package source:"
  echo "$restore" | grep -E 'error' | sed 's/^/    /' | head -n 5
  exit 1
fi
if timeout 600 dotnet test "$project" -nologo --no-restore 2>&1 | tee out/test-results/powershell-sdk.log 2>/dev/null | tail -n 3 | grep -q 'Passed!'; then
  echo "PASS powershell-sdk: in-process cmdlet tests"
else
  echo "FAIL powershell-sdk: see out/test-results/powershell-sdk.log"
  exit 1
fi
