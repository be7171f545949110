#!/usr/bin/env bash
# Checks the PowerShell files that can be checked without pwsh (none can be installed on our build machines):
# syntax of every .ps1/.psm1/.psd1 with a real PowerShell grammar (tree-sitter-powershell), then Pester when pwsh and
# Pester exist. Prints one "PASS ..." or "FAIL ..." line per check and says plainly what it skipped.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
if [ ! -d tools/ps-syntax/node_modules/web-tree-sitter ]; then
  (cd tools/ps-syntax && npm install --no-audit --no-fund --silent >/dev/null 2>&1) || { echo "FAIL syntax: npm install of tree-sitter-powershell failed"; exit 1; }
fi
mapfile -t files < <(git ls-files '*.ps1' '*.psm1' '*.psd1' 2>/dev/null; git ls-files --others --exclude-standard '*.ps1' '*.psm1' '*.psd1' 2>/dev/null)
if [ ${#files[@]} -gt 0 ]; then
  node tools/ps-syntax/check.mjs "${files[@]}" || status=1
fi
if command -v pwsh >/dev/null 2>&1 && pwsh -NoProfile -Command 'if (Get-Module -ListAvailable Pester) { exit 0 } else { exit 1 }'; then
  pwsh -NoProfile -Command 'Invoke-Pester -Path tests/Pester -CI' && echo "PASS pester" || { echo "FAIL pester"; status=1; }
else
  echo "SKIPPED: Pester tests (tests/Pester): pwsh with Pester is not installed on this machine."
fi
exit $status
