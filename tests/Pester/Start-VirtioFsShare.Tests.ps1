BeforeAll {
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'VirtioFs.TestHelpers.psm1') -Force
    Import-Module -Name (Get-VirtioFsTestModulePath) -Force
}

AfterEach {
    Remove-VirtioFsTestShare
}

Describe 'Start-VirtioFsShare' -Tag 'CI' {
    Context 'Starting' {
        It 'Returns a listening share whose socket exists' {
            $dirs = New-VirtioFsTestShareRoot -Name 'start'
            $share = Start-VirtioFsShare -Path $dirs.Shared -Tag 'start' -SocketPath $dirs.SocketPath
            $share | Should -BeOfType 'VirtioFs.Cmdlets.VirtioFsShare'
            $share.ShareState | Should -Be 'Listening'
            $share.State | Should -Be 'Running'
            $share.Tag | Should -Be 'start'
            $share.Name | Should -Be 'start'
            $share.Path | Should -Be $dirs.Shared
            $share.SocketPath | Should -Be $dirs.SocketPath
            Test-Path -LiteralPath $dirs.SocketPath | Should -BeTrue
        }

        It 'Is a job that Get-Job lists' {
            $dirs = New-VirtioFsTestShareRoot -Name 'job'
            $share = Start-VirtioFsShare -Path $dirs.Shared -Tag 'job' -SocketPath $dirs.SocketPath
            $job = Get-Job -Id $share.Id
            $job.PSJobTypeName | Should -Be 'VirtioFsShare'
            $job.State | Should -Be 'Running'
        }

        It 'Binds the directory from Get-Item through FullName' {
            $dirs = New-VirtioFsTestShareRoot -Name 'piped'
            $share = Get-Item -LiteralPath $dirs.Shared | Start-VirtioFsShare -Tag 'piped' -SocketPath $dirs.SocketPath
            $share.Path | Should -Be $dirs.Shared
        }

        It 'Passes the options to the share' {
            $dirs = New-VirtioFsTestShareRoot -Name 'opts'
            $share = Start-VirtioFsShare -Path $dirs.Shared -Tag 'opts' -SocketPath $dirs.SocketPath -ReadOnly -Xattr -Cache Never -RequestQueues 2 -QueueSize 1024
            $share.Options.ReadOnly | Should -BeTrue
            $share.Options.Xattr | Should -BeTrue
            $share.Options.Cache | Should -Be 'Never'
            $share.Options.RequestQueues | Should -Be 2
            $share.Options.MaxQueueSize | Should -Be 1024
        }

        It 'Uses the runtime directory for the default socket' {
            $dirs = New-VirtioFsTestShareRoot -Name 'default'
            $saved = $env:XDG_RUNTIME_DIR
            try {
                $env:XDG_RUNTIME_DIR = $dirs.Root
                $share = Start-VirtioFsShare -Path $dirs.Shared -Tag 'default'
                $share.SocketPath | Should -Be (Join-Path -Path $dirs.Root -ChildPath 'virtiofs/default.sock')
            }
            finally {
                $env:XDG_RUNTIME_DIR = $saved
            }
        }

        It 'Does nothing with -WhatIf' {
            $dirs = New-VirtioFsTestShareRoot -Name 'whatif'
            Start-VirtioFsShare -Path $dirs.Shared -Tag 'whatif' -SocketPath $dirs.SocketPath -WhatIf
            Test-Path -LiteralPath $dirs.SocketPath | Should -BeFalse
            Get-VirtioFsShare -Name 'whatif' -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }
    }

    Context 'Errors' {
        It 'Writes <ErrorId> when <Case>' -TestCases @(
            @{ Case = 'the name is taken'; ErrorId = 'ShareNameInUse'; Second = @{ Tag = 'other'; Name = 'first' } }
            @{ Case = 'the tag is taken'; ErrorId = 'ShareTagInUse'; Second = @{ Tag = 'first'; Name = 'second' } }
            @{ Case = 'the socket is taken'; ErrorId = 'SocketPathInUse'; Second = @{ Tag = 'third'; Name = 'third'; SameSocket = $true } }
        ) {
            $dirs = New-VirtioFsTestShareRoot -Name 'first'
            $null = Start-VirtioFsShare -Path $dirs.Shared -Tag 'first' -SocketPath $dirs.SocketPath
            $socket = if ($Second.SameSocket) { $dirs.SocketPath } else { Join-Path -Path $dirs.Root -ChildPath 'second.sock' }
            $result = Start-VirtioFsShare -Path $dirs.Shared -Tag $Second.Tag -Name $Second.Name -SocketPath $socket -ErrorVariable failure -ErrorAction SilentlyContinue
            $result | Should -BeNullOrEmpty
            $failure[0].FullyQualifiedErrorId | Should -Be "$ErrorId,VirtioFs.Cmdlets.StartVirtioFsShareCommand"
            $failure[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        }

        It 'Writes SharedDirectoryNotFound for a missing directory' {
            $dirs = New-VirtioFsTestShareRoot -Name 'missing'
            $gone = Join-Path -Path $dirs.Root -ChildPath 'does-not-exist'
            Start-VirtioFsShare -Path $gone -Tag 'missing' -SocketPath $dirs.SocketPath -ErrorVariable failure -ErrorAction SilentlyContinue
            $failure[0].FullyQualifiedErrorId | Should -Be 'SharedDirectoryNotFound,VirtioFs.Cmdlets.StartVirtioFsShareCommand'
            $failure[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failure[0].TargetObject | Should -Be $gone
        }

        It 'Throws InvalidTag for a tag of <Bytes> bytes' -TestCases @(
            @{ Bytes = 37; Tag = ('t' * 37) }
            @{ Bytes = 38; Tag = ([string]([char]0xE9) * 19) }
        ) {
            $dirs = New-VirtioFsTestShareRoot -Name 'tag'
            { Start-VirtioFsShare -Path $dirs.Shared -Tag $Tag -Name 'tag' -SocketPath $dirs.SocketPath -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidTag,VirtioFs.Cmdlets.StartVirtioFsShareCommand'
        }

        It 'Writes SocketAccessDenied where the socket cannot be created' -Skip:((id -u) -eq '0') {
            $dirs = New-VirtioFsTestShareRoot -Name 'denied'
            Start-VirtioFsShare -Path $dirs.Shared -Tag 'denied' -SocketPath '/proc/denied.sock' -ErrorVariable failure -ErrorAction SilentlyContinue
            $failure[0].FullyQualifiedErrorId | Should -Be 'SocketAccessDenied,VirtioFs.Cmdlets.StartVirtioFsShareCommand'
            $failure[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
        }
    }
}
