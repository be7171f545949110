BeforeDiscovery {
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'VirtioFs.TestHelpers.psm1') -Force
    # Driving I/O needs our test front-end (tests/Frontend), which targets net10.0: only pwsh 7.6 (on .NET 10) loads it.
    $script:FrontendPath = Get-VirtioFsTestFrontendPath
}

BeforeAll {
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'VirtioFs.TestHelpers.psm1') -Force
    Import-Module -Name (Get-VirtioFsTestModulePath) -Force
}

AfterEach {
    Remove-VirtioFsTestShare
}

Describe 'Get-VirtioFsQueueStats' -Tag 'CI' {
    Context 'Shape' {
        It 'Writes the hiprio queue and each request queue, all zero before any front-end' {
            $dirs = New-VirtioFsTestShareRoot -Name 'shape'
            $share = Start-VirtioFsShare -Path $dirs.Shared -Tag 'shape' -SocketPath $dirs.SocketPath -RequestQueues 2
            $stats = Get-VirtioFsQueueStats -Share $share
            $stats.Count | Should -Be 3
            $stats.QueueIndex | Should -Be @(0, 1, 2)
            $stats.Kind | Should -Be @('hiprio', 'request', 'request')
            $stats.ShareName | Should -Be @('shape', 'shape', 'shape')
            ($stats | Measure-Object -Property Requests -Sum).Sum | Should -Be 0
        }

        It 'Binds shares from the pipeline and finds shares by name' {
            $dirs = New-VirtioFsTestShareRoot -Name 'bound'
            $share = Start-VirtioFsShare -Path $dirs.Shared -Tag 'bound' -SocketPath $dirs.SocketPath
            ($share | Get-VirtioFsQueueStats).Count | Should -Be 2
            (Get-VirtioFsQueueStats -Name 'bou*').Count | Should -Be 2
        }

        It 'Writes ShareNotFound for an unknown name' {
            Get-VirtioFsQueueStats -Name 'nope' -ErrorVariable failure -ErrorAction SilentlyContinue
            $failure[0].FullyQualifiedErrorId | Should -Be 'ShareNotFound,VirtioFs.Cmdlets.GetVirtioFsQueueStatsCommand'
        }

        It 'Writes rates since the share started, zero before any front-end' {
            $dirs = New-VirtioFsTestShareRoot -Name 'rates'
            $share = Start-VirtioFsShare -Path $dirs.Shared -Tag 'rates' -SocketPath $dirs.SocketPath
            Start-Sleep -Milliseconds 50
            $stats = Get-VirtioFsQueueStats -Share $share
            foreach ($queue in $stats) {
                $queue.RateInterval | Should -BeGreaterThan ([TimeSpan]::Zero)
                $queue.RequestsPerSecond | Should -Be 0
                $queue.BytesReadPerSecond | Should -Be 0
                $queue.BytesWrittenPerSecond | Should -Be 0
                $queue.ErrorsPerSecond | Should -Be 0
            }
            ($stats | Format-Table | Out-String) | Should -Match 'Req/s'
        }

        It 'Ends -Watch when the watched share has stopped' {
            $dirs = New-VirtioFsTestShareRoot -Name 'watch'
            $share = Start-VirtioFsShare -Path $dirs.Shared -Tag 'watch' -SocketPath $dirs.SocketPath
            Stop-VirtioFsShare -InputObject $share
            $stats = Get-VirtioFsQueueStats -Share $share -Watch -Interval 1
            $stats.Count | Should -Be 2
        }
    }

    Context 'After I/O through the share' {
        It 'Counts requests, bytes and operations' -Skip:(-not $script:FrontendPath) {
            Add-Type -Path (Get-VirtioFsTestFrontendPath)
            $dirs = New-VirtioFsTestShareRoot -Name 'io'
            Set-Content -LiteralPath (Join-Path -Path $dirs.Shared -ChildPath 'hello.txt') -Value 'hello from the host' -NoNewline
            $share = Start-VirtioFsShare -Path $dirs.Shared -Tag 'io' -SocketPath $dirs.SocketPath
            $options = [VirtioFs.Frontend.FrontendOptions]::new()
            $options.MemorySize = 16MB
            $frontend = [VirtioFs.Frontend.VhostUserFrontend]::Connect($dirs.SocketPath, $options, [TimeSpan]::FromSeconds(10))
            try {
                $client = [VirtioFs.Frontend.Fuse.FuseClient]::new($frontend, 1, $null)
                $init = $null
                $client.Init([ref] $init) | Should -Be 0
                $entry = $null
                $client.Lookup(1, 'hello.txt', [ref] $entry) | Should -Be 0
                $missing = $null
                $client.Lookup(1, 'absent.txt', [ref] $missing) | Should -Not -Be 0

                $request = Get-VirtioFsQueueStats -Share $share | Where-Object -Property QueueIndex -EQ -Value 1
                $request.Requests | Should -BeGreaterOrEqual 3
                $request.Errors | Should -BeGreaterOrEqual 1
                $request.Operations['Lookup'] | Should -Be 2
                $request.Operations['Init'] | Should -Be 1
                $request.LatencyP99 | Should -BeGreaterThan ([TimeSpan]::Zero)
                $request.RequestsPerSecond | Should -BeGreaterThan 0
                $request.ErrorsPerSecond | Should -BeGreaterThan 0
                $request.CpuTime | Should -BeGreaterThan ([TimeSpan]::Zero)
                $request.CpuPercent | Should -BeGreaterOrEqual 0
                $share.ShareState | Should -Be 'Connected'
                $share.Frontend | Should -Not -BeNullOrEmpty
            }
            finally {
                $frontend.Dispose()
            }
        }
    }
}
