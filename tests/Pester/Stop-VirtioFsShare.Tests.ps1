BeforeAll {
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'VirtioFs.TestHelpers.psm1') -Force
    Import-Module -Name (Get-VirtioFsTestModulePath) -Force

    function Start-TestShare {
        param([string] $Name)
        $dirs = New-VirtioFsTestShareRoot -Name $Name
        Start-VirtioFsShare -Path $dirs.Shared -Tag $Name -SocketPath $dirs.SocketPath
    }
}

AfterEach {
    Remove-VirtioFsTestShare
}

Describe 'Stop-VirtioFsShare' -Tag 'CI' {
    Context 'ByInputObject' {
        It 'Stops a piped share, removes its socket and keeps the job' {
            $share = Start-TestShare -Name 'piped'
            $share | Stop-VirtioFsShare
            $share.ShareState | Should -Be 'Stopped'
            $share.State | Should -Be 'Stopped'
            Test-Path -LiteralPath $share.Options.SocketPath | Should -BeFalse
            (Get-Job -Id $share.Id).State | Should -Be 'Stopped'
        }

        It 'Writes the share with -PassThru' {
            $share = Start-TestShare -Name 'passthru'
            $result = Stop-VirtioFsShare -InputObject $share -PassThru
            $result | Should -Be $share
        }

        It 'Does nothing with -WhatIf' {
            $share = Start-TestShare -Name 'whatif'
            Stop-VirtioFsShare -InputObject $share -WhatIf
            $share.ShareState | Should -Be 'Listening'
        }

        It 'Accepts a share that has already stopped' {
            $share = Start-TestShare -Name 'twice'
            Stop-VirtioFsShare -InputObject $share
            { Stop-VirtioFsShare -InputObject $share -ErrorAction Stop } | Should -Not -Throw
        }
    }

    Context 'ByName and ByTag' {
        It 'Stops by name with a wildcard' {
            $a = Start-TestShare -Name 'batch-a'
            $b = Start-TestShare -Name 'batch-b'
            $other = Start-TestShare -Name 'other'
            Stop-VirtioFsShare -Name 'batch-*'
            $a.ShareState | Should -Be 'Stopped'
            $b.ShareState | Should -Be 'Stopped'
            $other.ShareState | Should -Be 'Listening'
        }

        It 'Stops by tag' {
            $share = Start-TestShare -Name 'bytag'
            Stop-VirtioFsShare -Tag 'bytag'
            $share.ShareState | Should -Be 'Stopped'
        }

        It 'Writes ShareNotFound for an unknown name' {
            Stop-VirtioFsShare -Name 'nope' -ErrorVariable failure -ErrorAction SilentlyContinue
            $failure[0].FullyQualifiedErrorId | Should -Be 'ShareNotFound,VirtioFs.Cmdlets.StopVirtioFsShareCommand'
        }
    }

    Context 'Job cmdlets' {
        It 'Stop-Job stops the share' {
            $share = Start-TestShare -Name 'stopjob'
            Stop-Job -Job $share
            $share.ShareState | Should -Be 'Stopped'
        }

        It 'Wait-Job returns once the share has stopped' {
            $share = Start-TestShare -Name 'waitjob'
            $null = Start-ThreadJob -ScriptBlock { param($s) Start-Sleep -Milliseconds 300; $s.StopJob() } -ArgumentList $share
            $finished = Wait-Job -Job $share -Timeout 10
            $finished | Should -Be $share
            $share.State | Should -Be 'Stopped'
        }

        It 'Remove-Job -Force stops and forgets the share' {
            $share = Start-TestShare -Name 'removejob'
            Remove-Job -Job $share -Force
            $share.ShareState | Should -Be 'Stopped'
            Get-VirtioFsShare -Name 'removejob' -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }

        It 'Lets a new share take the name of a stopped one' {
            $old = Start-TestShare -Name 'reuse'
            Stop-VirtioFsShare -InputObject $old
            $new = Start-TestShare -Name 'reuse'
            $new.ShareState | Should -Be 'Listening'
        }
    }
}
