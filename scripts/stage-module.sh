#!/usr/bin/env bash
# Stages the PowerShell module into out/VirtioFs/ without pwsh (CI, these build machines): builds VirtioFs.dll,
# copies the manifest, the assemblies, the format file and the about topic. build.ps1 does the same and adds MAML help
# when platyPS is installed. Usage: scripts/stage-module.sh [Debug|Release]   (default Release)
set -euo pipefail
cd "$(dirname "$0")/.."
configuration=${1:-Release}
out=out/VirtioFs

manifest_version=$(sed -n "s/^[[:space:]]*ModuleVersion[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" VirtioFs.psd1)
props_version=$(sed -n 's:.*<VersionPrefix>\(.*\)</VersionPrefix>.*:\1:p' Directory.Build.props)
if [ "$manifest_version" != "$props_version" ]; then
  echo "VirtioFs.psd1 says ModuleVersion '$manifest_version' but Directory.Build.props says '$props_version'; make them equal." >&2
  exit 1
fi

dotnet build src/Cmdlets/VirtioFs.Cmdlets.csproj -c "$configuration" -nologo -v q >/dev/null
bin=src/Cmdlets/bin/$configuration/net8.0
rm -rf "$out"
mkdir -p "$out/en-US"
cp VirtioFs.psd1 VirtioFs.format.ps1xml "$out/"
cp "$bin/VirtioFs.dll" "$bin/VirtioFs.Backend.dll" "$out/"
cp docs/en-US/about_VirtioFs.help.txt "$out/en-US/"
# System.Management.Automation must never ship: pwsh brings its own. PrivateAssets=all keeps it out of bin/.
if [ -e "$out/System.Management.Automation.dll" ] || [ -e "$bin/System.Management.Automation.dll" ]; then
  echo "System.Management.Automation.dll was copied to the module; PowerShellStandard.Library must stay PrivateAssets=all." >&2
  exit 1
fi
echo "staged $out: $(cd "$out" && find . -type f | sort | tr '\n' ' ')"
