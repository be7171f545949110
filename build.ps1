<#
.SYNOPSIS
    Builds the VirtioFs module and runs its tests.
.DESCRIPTION
    Builds the solution with dotnet, and with -Test runs ./test.sh (the same command CI runs).
    This script needs pwsh; on machines without it, call dotnet and ./test.sh directly.
.EXAMPLE
    ./build.ps1 -Configuration Release -Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    [switch] $Clean,
    [switch] $Test
)

$ErrorActionPreference = 'Stop'
Set-Location -Path $PSScriptRoot

if ($Clean) {
    Remove-Item -Recurse -Force -ErrorAction SilentlyContinue -Path 'out'
    dotnet clean 'VirtioFs.slnx' -c $Configuration
}

dotnet build 'VirtioFs.slnx' -c $Configuration
if ($LASTEXITCODE -ne 0) { throw "dotnet build failed with exit code $LASTEXITCODE." }

if ($Test) {
    & "$PSScriptRoot/test.sh"
    if ($LASTEXITCODE -ne 0) { throw "Tests failed (exit code $LASTEXITCODE)." }
}
