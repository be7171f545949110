#!/usr/bin/env bash
# Checks the PowerShell module as far as it can be checked without pwsh (none can be installed on our build machines):
#   1. syntax of every .ps1/.psm1/.psd1 with a real PowerShell grammar (tree-sitter-powershell);
#   2. the cmdlet surface: stages the module (scripts/stage-module.sh) and loads the staged VirtioFs.dll with
#      MetadataLoadContext (tools/surface-check) against the manifest, docs/en-US and the format file;
#   3. Pester, when pwsh and Pester exist;
#   4. the in-process Microsoft.PowerShell.SDK tests, only with --powershell-sdk (scripts/test-powershell-sdk.sh).
# Prints one "PASS ..." or "FAIL ..." line per check and says plainly what it skipped.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
run_sdk=0
for a in "$@"; do
  case $a in
    --powershell-sdk) run_sdk=1 ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done

if [ ! -d tools/ps-syntax/node_modules/web-tree-sitter ]; then
  (cd tools/ps-syntax && npm install --no-audit --no-fund --silent >/dev/null 2>&1) || { echo "FAIL syntax: npm install of tree-sitter-powershell failed"; exit 1; }
fi
mapfile -t files < <(git ls-files '*.ps1' '*.psm1' '*.psd1' 2>/dev/null; git ls-files --others --exclude-standard '*.ps1' '*.psm1' '*.psd1' 2>/dev/null)
if [ ${#files[@]} -gt 0 ]; then
  node tools/ps-syntax/check.mjs "${files[@]}" || status=1
fi

if staged=$(scripts/stage-module.sh Release 2>&1); then
  echo "PASS stage module: ${staged#staged }"
  if dotnet build tools/surface-check/SurfaceCheck.csproj -c Release -nologo -v q >/dev/null 2>&1; then
    dotnet tools/surface-check/bin/Release/net10.0/surface-check.dll out/VirtioFs docs/en-US || status=1
  else
    echo "FAIL surface check: tools/surface-check does not build (dotnet build tools/surface-check/SurfaceCheck.csproj)"
    status=1
  fi
else
  echo "FAIL stage module: $staged"
  status=1
fi

if command -v pwsh >/dev/null 2>&1 && pwsh -NoProfile -Command 'if (Get-Module -ListAvailable Pester | Where-Object Version -ge 5.0.0) { exit 0 } else { exit 1 }'; then
  pwsh -NoProfile -Command 'Invoke-Pester -Path tests/Pester -CI' && echo "PASS pester" || { echo "FAIL pester"; status=1; }
else
  echo "SKIPPED: Pester tests (tests/Pester): pwsh with Pester 5 is not installed on this machine."
fi

if [ $run_sdk -eq 1 ]; then
  scripts/test-powershell-sdk.sh || status=1
else
  echo "SKIPPED: in-process PowerShell tests (tests/PowerShellSdk, Microsoft.PowerShell.SDK): opt-in, run with --powershell-sdk."
fi
exit $status
