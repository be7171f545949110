BeforeAll {
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'VirtioFs.TestHelpers.psm1') -Force
    Import-Module -Name (Get-VirtioFsTestModulePath) -Force
}

Describe 'Get-VirtioFsShare' -Tag 'CI' {
    BeforeAll {
        Remove-VirtioFsTestShare
        $script:Shares = foreach ($name in 'web-data', 'db-data', 'logs') {
            $dirs = New-VirtioFsTestShareRoot -Name $name
            Start-VirtioFsShare -Path $dirs.Shared -Tag $name.ToUpperInvariant() -Name $name -SocketPath $dirs.SocketPath
        }
    }

    AfterAll {
        Remove-VirtioFsTestShare
    }

    Context 'ByName' {
        It 'Lists every share in start order without parameters' {
            (Get-VirtioFsShare).Name | Should -Be @('web-data', 'db-data', 'logs')
        }

        It 'Finds <Pattern> as <Expected>' -TestCases @(
            @{ Pattern = '*-data'; Expected = @('web-data', 'db-data') }
            @{ Pattern = 'LOGS'; Expected = @('logs') }
            @{ Pattern = '[dw]*'; Expected = @('web-data', 'db-data') }
        ) {
            (Get-VirtioFsShare -Name $Pattern).Name | Should -Be $Expected
        }

        It 'Writes ShareNotFound for an unknown literal name' {
            Get-VirtioFsShare -Name 'nope' -ErrorVariable failure -ErrorAction SilentlyContinue
            $failure[0].FullyQualifiedErrorId | Should -Be 'ShareNotFound,VirtioFs.Cmdlets.GetVirtioFsShareCommand'
            $failure[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failure[0].TargetObject | Should -Be 'nope'
        }

        It 'Writes nothing for a wildcard that matches nothing' {
            Get-VirtioFsShare -Name 'zz*' -ErrorVariable failure | Should -BeNullOrEmpty
            $failure | Should -BeNullOrEmpty
        }
    }

    Context 'ByTag' {
        It 'Compares tags case-sensitively' {
            (Get-VirtioFsShare -Tag 'WEB-*').Name | Should -Be @('web-data')
            Get-VirtioFsShare -Tag 'web-*' | Should -BeNullOrEmpty
        }
    }

    Context 'Completion' {
        It 'Completes share names' {
            $result = TabExpansion2 -inputScript 'Get-VirtioFsShare -Name we' -cursorColumn 'Get-VirtioFsShare -Name we'.Length
            $result.CompletionMatches.CompletionText | Should -Contain 'web-data'
        }

        It 'Completes tags' {
            $result = TabExpansion2 -inputScript 'Stop-VirtioFsShare -Tag LO' -cursorColumn 'Stop-VirtioFsShare -Tag LO'.Length
            $result.CompletionMatches.CompletionText | Should -Be @('LOGS')
        }
    }
}
