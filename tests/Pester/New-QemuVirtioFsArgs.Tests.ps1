BeforeAll {
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'VirtioFs.TestHelpers.psm1') -Force
    Import-Module -Name (Get-VirtioFsTestModulePath) -Force
}

AfterEach {
    Remove-VirtioFsTestShare
}

Describe 'New-QemuVirtioFsArgs' -Tag 'CI' {
    Context 'BySocketPath' {
        It 'Writes the golden arguments for memfd and -machine' {
            $result = New-QemuVirtioFsArgs -SocketPath '/run/virtiofs/src.sock' -Tag 'src' -MemorySize 4GB
            $result.Arguments | Should -Be @(
                '-m', '4G',
                '-object', 'memory-backend-memfd,id=mem,size=4G,share=on',
                '-machine', 'memory-backend=mem',
                '-chardev', 'socket,id=char-fs0,path=/run/virtiofs/src.sock',
                '-device', 'vhost-user-fs-pci,chardev=char-fs0,tag=src,queue-size=1024,num-request-queues=1,id=fs0'
            )
        }

        It 'Quotes paths with spaces and quotes for a shell but keeps them one argument each' {
            $result = New-QemuVirtioFsArgs -SocketPath "/tmp/my share/it's.sock" -Tag 'my tag' -MemorySize 512MB -MemoryBackend File -MemoryPath '/dev/shm'
            $result.Arguments[7] | Should -Be "socket,id=char-fs0,path=/tmp/my share/it's.sock"
            $result.ToString() | Should -BeLike "*-chardev 'socket,id=char-fs0,path=/tmp/my share/it'\''s.sock' -device 'vhost-user-fs-pci,chardev=char-fs0,tag=my tag,*"
        }

        It 'Uses -numa with -MemoryAttachment Numa and hugetlbfs with HugePages' {
            $result = New-QemuVirtioFsArgs -SocketPath '/run/a.sock' -Tag 'a' -MemorySize 2GB -MemoryBackend HugePages -MemoryAttachment Numa
            $result.Arguments[3] | Should -Be 'memory-backend-file,id=mem,size=2G,mem-path=/dev/hugepages,share=on'
            $result.Arguments[4..5] | Should -Be @('-numa', 'node,memdev=mem')
        }

        It 'Throws <ErrorId> for <Case>' -TestCases @(
            @{ Case = 'a 37-byte tag'; ErrorId = 'InvalidTag'; Arguments = @{ Tag = ('t' * 37) } }
            @{ Case = 'queue size 1000'; ErrorId = 'InvalidQueueSize'; Arguments = @{ QueueSize = 1000 } }
            @{ Case = 'queue size 2048'; ErrorId = 'InvalidQueueSize'; Arguments = @{ QueueSize = 2048 } }
            @{ Case = 'a size that is not whole MiB'; ErrorId = 'InvalidMemorySize'; Arguments = @{ MemorySize = 1000 } }
            @{ Case = 'a file backend without a path'; ErrorId = 'InvalidMemoryPath'; Arguments = @{ MemoryBackend = 'File' } }
        ) {
            $splat = @{ SocketPath = '/run/a.sock'; Tag = 'a'; MemorySize = 1GB }
            foreach ($key in $Arguments.Keys) { $splat[$key] = $Arguments[$key] }
            { New-QemuVirtioFsArgs @splat -ErrorAction Stop } | Should -Throw -ErrorId "$ErrorId,VirtioFs.Cmdlets.NewQemuVirtioFsArgsCommand"
        }
    }

    Context 'ByShare' {
        It 'Reads socket, tag and request queues from piped shares into one set of arguments' {
            $a = New-VirtioFsTestShareRoot -Name 'qa'
            $b = New-VirtioFsTestShareRoot -Name 'qb'
            $shares = @(
                Start-VirtioFsShare -Path $a.Shared -Tag 'qa' -SocketPath $a.SocketPath
                Start-VirtioFsShare -Path $b.Shared -Tag 'qb' -SocketPath $b.SocketPath -RequestQueues 2
            )
            $result = $shares | New-QemuVirtioFsArgs -MemorySize 1GB
            @($result).Count | Should -Be 1
            ($result.Arguments | Where-Object -FilterScript { $_ -like 'memory-backend-*' }).Count | Should -Be 1
            $result.Arguments[-3] | Should -Be "socket,id=char-fs1,path=$($b.SocketPath)"
            $result.Arguments[-1] | Should -Be 'vhost-user-fs-pci,chardev=char-fs1,tag=qb,queue-size=1024,num-request-queues=2,id=fs1'
        }

        It 'Refuses more request queues than the share serves' {
            $dirs = New-VirtioFsTestShareRoot -Name 'rq'
            $share = Start-VirtioFsShare -Path $dirs.Shared -Tag 'rq' -SocketPath $dirs.SocketPath
            { $share | New-QemuVirtioFsArgs -MemorySize 1GB -RequestQueues 4 -ErrorAction Stop } |
                Should -Throw -ErrorId 'RequestQueuesNotServed,VirtioFs.Cmdlets.NewQemuVirtioFsArgsCommand'
        }

        It 'Caps the queue size at what the share accepts' {
            $dirs = New-VirtioFsTestShareRoot -Name 'small'
            $share = Start-VirtioFsShare -Path $dirs.Shared -Tag 'small' -SocketPath $dirs.SocketPath -QueueSize 256
            ($share | New-QemuVirtioFsArgs -MemorySize 1GB).Arguments[-1] | Should -BeLike '*queue-size=256,*'
        }

        It 'Splats into a native command as separate arguments' {
            $result = New-QemuVirtioFsArgs -SocketPath '/tmp/sp ace.sock' -Tag 't' -MemorySize 1GB
            $arguments = $result.Arguments
            $echoed = & '/bin/sh' '-c' 'for a in "$@"; do echo "$a"; done' 'sh' @arguments
            $echoed | Should -Be $result.Arguments
        }
    }
}
