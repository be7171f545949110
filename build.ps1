<#
.SYNOPSIS
    Builds the VirtioFs module, stages it into out/VirtioFs, and optionally runs the tests.
.DESCRIPTION
    Builds the solution with dotnet, stages the module with scripts/stage-module.sh (manifest, VirtioFs.dll,
    VirtioFs.Backend.dll, format file, about topic), and when Microsoft.PowerShell.PlatyPS 1.0 is installed converts
    docs/en-US into MAML help (en-US/VirtioFs.dll-Help.xml) so that Get-Help shows the full pages. With -Test it runs
    ./test.sh, the command CI runs; -PowerShellSdk adds the opt-in in-process Microsoft.PowerShell.SDK tests.
.EXAMPLE
    ./build.ps1
    Builds Release and stages out/VirtioFs. Then: Import-Module ./out/VirtioFs/VirtioFs.psd1
.EXAMPLE
    ./build.ps1 -Configuration Debug -Clean
    Removes out/ and the build outputs first, then builds Debug.
.EXAMPLE
    ./build.ps1 -Test
    Builds, stages and runs every test suite (Pester included, since pwsh is here).
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    [switch] $Clean,
    [switch] $Test,
    [switch] $PowerShellSdk
)

$ErrorActionPreference = 'Stop'
Set-Location -Path $PSScriptRoot
$moduleDir = Join-Path -Path $PSScriptRoot -ChildPath 'out/VirtioFs'

if ($Clean) {
    Remove-Item -Recurse -Force -ErrorAction SilentlyContinue -Path 'out'
    dotnet clean 'VirtioFs.slnx' -c $Configuration
}

dotnet build 'VirtioFs.slnx' -c $Configuration
if ($LASTEXITCODE -ne 0) { throw "dotnet build failed with exit code $LASTEXITCODE." }

& bash (Join-Path -Path $PSScriptRoot -ChildPath 'scripts/stage-module.sh') $Configuration
if ($LASTEXITCODE -ne 0) { throw "Staging the module failed with exit code $LASTEXITCODE." }

$platyPS = Get-Module -ListAvailable -Name 'Microsoft.PowerShell.PlatyPS' | Sort-Object -Property Version -Descending | Select-Object -First 1
if ($platyPS) {
    Import-Module -ModuleInfo $platyPS
    $mamlDir = Join-Path -Path $PSScriptRoot -ChildPath 'out/maml'
    Remove-Item -Recurse -Force -ErrorAction SilentlyContinue -Path $mamlDir
    $help = Get-ChildItem -Path 'docs/en-US' -Filter '*-*.md' | Import-MarkdownCommandHelp
    $null = Export-MamlCommandHelp -CommandHelp $help -OutputFolder $mamlDir -Force
    # PlatyPS names the file after the pages' "external help file" (VirtioFs.dll-Help.xml); put it where pwsh looks.
    Get-ChildItem -Path $mamlDir -Recurse -Filter '*-Help.xml' |
        Copy-Item -Destination (Join-Path -Path $moduleDir -ChildPath 'en-US') -Force
    Write-Verbose -Message "MAML help generated with $($platyPS.Name) $($platyPS.Version)."
}
else {
    Write-Warning -Message 'Microsoft.PowerShell.PlatyPS is not installed: the module is staged without MAML help (Get-Help shows syntax only). Install-Module Microsoft.PowerShell.PlatyPS, then build again.'
}

if ($Test) {
    $testArguments = if ($PowerShellSdk) { @('--powershell-sdk') } else { @() }
    & (Join-Path -Path $PSScriptRoot -ChildPath 'test.sh') @testArguments
    if ($LASTEXITCODE -ne 0) { throw "Tests failed (exit code $LASTEXITCODE)." }
}
