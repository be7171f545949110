BeforeAll {
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'VirtioFs.TestHelpers.psm1') -Force
    $script:ManifestPath = Get-VirtioFsTestModulePath
    Import-Module -Name $script:ManifestPath -Force
}

AfterAll {
    Remove-VirtioFsTestShare
}

Describe 'VirtioFs module' -Tag 'CI' {
    Context 'Manifest' {
        It 'Passes Test-ModuleManifest' {
            Test-ModuleManifest -Path $script:ManifestPath | Should -Not -BeNullOrEmpty
        }

        It 'Exports exactly the cmdlets the manifest lists' {
            $manifest = Import-PowerShellDataFile -Path $script:ManifestPath
            $exported = (Get-Command -Module VirtioFs -CommandType Cmdlet).Name | Sort-Object
            $exported | Should -Be ($manifest.CmdletsToExport | Sort-Object)
        }

        It 'Exports no functions, variables or aliases' {
            $module = Get-Module -Name VirtioFs
            $module.ExportedFunctions.Count | Should -Be 0
            $module.ExportedVariables.Count | Should -Be 0
            $module.ExportedAliases.Count | Should -Be 0
        }

        It 'Loads the format file' {
            $format = Get-FormatData -TypeName 'VirtioFs.Cmdlets.VirtioFsShare'
            $format | Should -Not -BeNullOrEmpty
        }
    }

    Context 'Runspaces and cleanup' {
        It 'Starts and stops shares without creating runspaces' {
            $before = @(Get-Runspace).Count
            $dirs = New-VirtioFsTestShareRoot -Name 'leak'
            $share = Start-VirtioFsShare -Path $dirs.Shared -Tag 'leak' -SocketPath $dirs.SocketPath
            Stop-VirtioFsShare -InputObject $share
            Remove-Job -Job $share
            @(Get-Runspace).Count | Should -Be $before
        }

        It 'Stops every share when the module is removed' {
            $dirs = New-VirtioFsTestShareRoot -Name 'removed'
            $share = Start-VirtioFsShare -Path $dirs.Shared -Tag 'removed' -SocketPath $dirs.SocketPath
            Remove-Module -Name VirtioFs
            $share.ShareState | Should -Be 'Stopped'
            Test-Path -LiteralPath $dirs.SocketPath | Should -BeFalse
            Import-Module -Name $script:ManifestPath -Force
        }
    }
}
