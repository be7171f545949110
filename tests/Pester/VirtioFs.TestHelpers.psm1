# Helpers shared by the Pester files. Imported with Import-Module (not dot-sourced), so the test files stay in the
# shapes the tree-sitter syntax check accepts.

function Get-VirtioFsTestModulePath {
    # The staged module (scripts/stage-module.sh or build.ps1): the tests exercise what ships.
    [CmdletBinding()]
    [OutputType([string])]
    param()
    $path = Join-Path -Path $PSScriptRoot -ChildPath '../../out/VirtioFs/VirtioFs.psd1'
    if (-not (Test-Path -LiteralPath $path)) {
        throw "The module is not staged at '$path'. Run ./build.ps1 or scripts/stage-module.sh first."
    }
    (Resolve-Path -LiteralPath $path).Path
}

function New-VirtioFsTestShareRoot {
    # A fresh directory to share, and a socket path next to it (short enough for sun_path).
    [CmdletBinding(SupportsShouldProcess)]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [string] $Name
    )
    $root = Join-Path -Path ([System.IO.Path]::GetTempPath()) -ChildPath ('vfs-pester-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    $shared = Join-Path -Path $root -ChildPath $Name
    if ($PSCmdlet.ShouldProcess($shared, 'Create test directory')) {
        $null = New-Item -ItemType Directory -Path $shared -Force
    }
    [pscustomobject]@{
        Root       = $root
        Shared     = $shared
        SocketPath = Join-Path -Path $root -ChildPath "$Name.sock"
    }
}

function Remove-VirtioFsTestShare {
    # Stops and forgets every share, so one test cannot see another's.
    [CmdletBinding(SupportsShouldProcess)]
    param()
    if ($PSCmdlet.ShouldProcess('all VirtioFsShare jobs', 'Remove')) {
        Get-Job | Where-Object -Property PSJobTypeName -EQ -Value 'VirtioFsShare' | Remove-Job -Force
    }
}

function Get-VirtioFsTestFrontendPath {
    # Our test vhost-user front-end (tests/Frontend), built for net10.0: usable only where pwsh runs on .NET 10.
    [CmdletBinding()]
    [OutputType([string])]
    param()
    $path = Join-Path -Path $PSScriptRoot -ChildPath '../Frontend/bin/Release/net10.0/VirtioFs.Frontend.dll'
    if ((Test-Path -LiteralPath $path) -and [Environment]::Version.Major -ge 10) {
        return (Resolve-Path -LiteralPath $path).Path
    }
    $null
}

Export-ModuleMember -Function 'Get-VirtioFsTestModulePath', 'New-VirtioFsTestShareRoot', 'Remove-VirtioFsTestShare', 'Get-VirtioFsTestFrontendPath'
