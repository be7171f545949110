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

        It 'Passes the virtiofsd options to the share' {
            $dirs = New-VirtioFsTestShareRoot -Name 'vfsd'
            $params = @{
                Path                = $dirs.Shared
                Tag                 = 'vfsd'
                SocketPath          = $dirs.SocketPath
                ThreadPoolSize      = 4
                PosixLock           = $true
                Flock               = $true
                Xattr               = $true
                XattrMap            = ':map:security.selinux:trusted.virtiofs.:'
                NoAnnounceSubmounts = $true
                KillprivV2          = $true
                AllowDirectIo       = $true
                Writeback           = $true
                NoReaddirPlus       = $true
                Timeout             = 2.5
                RlimitNofile        = 4096
            }
            $share = Start-VirtioFsShare @params
            $share.Options.ThreadPoolSize | Should -Be 4
            $share.Options.PosixLocks | Should -BeTrue
            $share.Options.Flock | Should -BeTrue
            $share.Options.XattrMap | Should -Be ':map:security.selinux:trusted.virtiofs.:'
            $share.Options.AnnounceSubmounts | Should -BeFalse
            $share.Options.KillprivV2 | Should -BeTrue
            $share.Options.AllowDirectIo | Should -BeTrue
            $share.Options.Writeback | Should -BeTrue
            $share.Options.ReaddirPlus | Should -BeFalse
            $share.Options.Timeout | Should -Be 2.5
            $share.Options.RlimitNofile | Should -Be 4096
            $share.OptionSummary | Should -Be 'cache=auto, queues=1, thread_pool_size=4, timeout=2.5, writeback, no_readdirplus, allow_direct_io, xattr, xattrmap=:map:security.selinux:trusted.virtiofs.:, posix_lock, flock, no_announce_submounts, killpriv_v2, rlimit_nofile=4096'
        }

        It 'Keeps virtiofsd''s defaults when no option is given' {
            $dirs = New-VirtioFsTestShareRoot -Name 'defaults'
            $share = Start-VirtioFsShare -Path $dirs.Shared -Tag 'defaults' -SocketPath $dirs.SocketPath
            $share.Options.ThreadPoolSize | Should -Be 0
            $share.Options.PosixLocks | Should -BeFalse
            $share.Options.Flock | Should -BeFalse
            $share.Options.AnnounceSubmounts | Should -BeTrue
            $share.Options.Timeout | Should -BeNullOrEmpty
            $share.Options.RlimitNofile | Should -BeNullOrEmpty
            $share.OptionSummary | Should -Be 'cache=auto, queues=1'
        }

        It 'Shows the options in the list view' {
            $dirs = New-VirtioFsTestShareRoot -Name 'listed'
            $share = Start-VirtioFsShare -Path $dirs.Shared -Tag 'listed' -SocketPath $dirs.SocketPath -PosixLock
            ($share | Format-List | Out-String) | Should -Match 'Options\s+: cache=auto, queues=1, posix_lock'
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

    Context 'A front-end that breaks the protocol' {
        It 'Writes one VhostUserProtocolViolation record with the exception and keeps listening' {
            $dirs = New-VirtioFsTestShareRoot -Name 'violation'
            $share = Start-VirtioFsShare -Path $dirs.Shared -Tag 'violation' -SocketPath $dirs.SocketPath
            $socket = [System.Net.Sockets.Socket]::new([System.Net.Sockets.AddressFamily]::Unix, [System.Net.Sockets.SocketType]::Stream, [System.Net.Sockets.ProtocolType]::Unspecified)
            try {
                $socket.Connect([System.Net.Sockets.UnixDomainSocketEndPoint]::new($dirs.SocketPath))
                # A vhost-user header: request 999 (there is none), flags 0x1 (version 1), no payload.
                $header = [byte[]]::new(12)
                [System.BitConverter]::GetBytes([uint32]999).CopyTo($header, 0)
                [System.BitConverter]::GetBytes([uint32]1).CopyTo($header, 4)
                $null = $socket.Send($header)
                $socket.ReceiveTimeout = 10000
                # 0 bytes: the share closed the connection, after it reported and logged the violation.
                $socket.Receive([byte[]]::new(16)) | Should -Be 0
            }
            finally {
                $socket.Dispose()
            }
            $deadline = [DateTime]::UtcNow.AddSeconds(10)
            while ($share.ShareState -ne 'Listening' -and [DateTime]::UtcNow -lt $deadline) {
                Start-Sleep -Milliseconds 20
            }
            $share.ShareState | Should -Be 'Listening'
            $share.State | Should -Be 'Running'
            $share.Error.Count | Should -Be 1
            $record = $share.Error[0]
            $record.FullyQualifiedErrorId | Should -Be 'VhostUserProtocolViolation'
            $record.CategoryInfo.Category | Should -Be 'ProtocolError'
            $record.Exception | Should -BeOfType 'VirtioFs.Backend.VhostUser.VhostUserProtocolException'
            $record.Exception.Message | Should -Match 'unknown request code 999'
            $record.TargetObject | Should -Be $share
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

        It 'Writes SocketPathInUse when another process listens on the socket' {
            $dirs = New-VirtioFsTestShareRoot -Name 'foreign'
            $other = [System.Net.Sockets.Socket]::new([System.Net.Sockets.AddressFamily]::Unix, [System.Net.Sockets.SocketType]::Stream, [System.Net.Sockets.ProtocolType]::Unspecified)
            try {
                $other.Bind([System.Net.Sockets.UnixDomainSocketEndPoint]::new($dirs.SocketPath))
                $other.Listen(1)
                Start-VirtioFsShare -Path $dirs.Shared -Tag 'foreign' -SocketPath $dirs.SocketPath -ErrorVariable failure -ErrorAction SilentlyContinue
                $failure[0].FullyQualifiedErrorId | Should -Be 'SocketPathInUse,VirtioFs.Cmdlets.StartVirtioFsShareCommand'
                $failure[0].CategoryInfo.Category | Should -Be 'ResourceExists'
                Get-VirtioFsShare -Name 'foreign' -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            }
            finally {
                $other.Dispose()
            }
        }

        It 'Writes SocketPathInUse, with the back-end exception, when a file that is not a socket is at the socket path' {
            $dirs = New-VirtioFsTestShareRoot -Name 'file'
            Set-Content -LiteralPath $dirs.SocketPath -Value 'precious'
            Start-VirtioFsShare -Path $dirs.Shared -Tag 'file' -SocketPath $dirs.SocketPath -ErrorVariable failure -ErrorAction SilentlyContinue
            $failure[0].FullyQualifiedErrorId | Should -Be 'SocketPathInUse,VirtioFs.Cmdlets.StartVirtioFsShareCommand'
            $failure[0].CategoryInfo.Category | Should -Be 'ResourceExists'
            $failure[0].Exception | Should -BeOfType 'VirtioFs.Backend.VhostUser.SocketPathNotASocketException'
            $failure[0].Exception.SocketPath | Should -Be $dirs.SocketPath
            $failure[0].TargetObject | Should -Be $dirs.SocketPath
            Get-Content -LiteralPath $dirs.SocketPath | Should -Be 'precious'
            Get-VirtioFsShare -Name 'file' -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
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

        It 'Refuses <Parameter> <Value> when it binds' -TestCases @(
            @{ Parameter = 'ThreadPoolSize'; Value = 1025 }
            @{ Parameter = 'ThreadPoolSize'; Value = -1 }
            @{ Parameter = 'Timeout'; Value = -0.5 }
            @{ Parameter = 'Timeout'; Value = [double]::NaN }
            @{ Parameter = 'Timeout'; Value = 5e9 }
            @{ Parameter = 'RlimitNofile'; Value = -1 }
            @{ Parameter = 'XattrMap'; Value = ':map:security.selinux' }
            @{ Parameter = 'XattrMap'; Value = ':frob:all:a:b:' }
            @{ Parameter = 'XattrMap'; Value = '' }
        ) {
            $dirs = New-VirtioFsTestShareRoot -Name 'bad'
            $params = @{ Path = $dirs.Shared; Tag = 'bad'; SocketPath = $dirs.SocketPath; Xattr = $true; $Parameter = $Value }
            { Start-VirtioFsShare @params -ErrorAction Stop } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,VirtioFs.Cmdlets.StartVirtioFsShareCommand'
            Test-Path -LiteralPath $dirs.SocketPath | Should -BeFalse
        }

        It 'Names the offending rule of a malformed -XattrMap' {
            $dirs = New-VirtioFsTestShareRoot -Name 'rule'
            $failure = { Start-VirtioFsShare -Path $dirs.Shared -Tag 'rule' -SocketPath $dirs.SocketPath -Xattr -XattrMap ':frob:all:a:b:' } |
                Should -Throw -PassThru
            $failure.Exception.Message | Should -Match "unknown rule type 'frob'"
        }

        It 'Throws InvalidShareOption for -XattrMap without -Xattr' {
            $dirs = New-VirtioFsTestShareRoot -Name 'noxattr'
            { Start-VirtioFsShare -Path $dirs.Shared -Tag 'noxattr' -SocketPath $dirs.SocketPath -XattrMap ':ok:all:::' -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidShareOption,VirtioFs.Cmdlets.StartVirtioFsShareCommand'
            Test-Path -LiteralPath $dirs.SocketPath | Should -BeFalse
        }

        It 'Writes SocketAccessDenied where the socket cannot be created' -Skip:((id -u) -eq '0') {
            $dirs = New-VirtioFsTestShareRoot -Name 'denied'
            Start-VirtioFsShare -Path $dirs.Shared -Tag 'denied' -SocketPath '/proc/denied.sock' -ErrorVariable failure -ErrorAction SilentlyContinue
            $failure[0].FullyQualifiedErrorId | Should -Be 'SocketAccessDenied,VirtioFs.Cmdlets.StartVirtioFsShareCommand'
            $failure[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
        }
    }
}
