BeforeAll {
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'VirtioFs.TestHelpers.psm1') -Force
    Import-Module -Name (Get-VirtioFsTestModulePath) -Force
}

AfterEach {
    Remove-VirtioFsTestShare
}

Describe 'New-LibvirtVirtioFsXml' -Tag 'CI' {
    It 'Writes the golden XML for a socket and tag' {
        $expected = @(
            '<memoryBacking>'
            "  <source type='memfd'/>"
            "  <access mode='shared'/>"
            '</memoryBacking>'
            "<filesystem type='mount'>"
            "  <driver type='virtiofs' queue='1024'/>"
            "  <source socket='/run/virtiofs/src.sock'/>"
            "  <target dir='src'/>"
            '</filesystem>'
            ''
        ) -join "`n"
        New-LibvirtVirtioFsXml -SocketPath '/run/virtiofs/src.sock' -Tag 'src' | Should -BeExactly $expected
    }

    It 'Escapes quotes and parses back to the same path' {
        $xml = New-LibvirtVirtioFsXml -SocketPath "/tmp/it's & <x>.sock" -Tag 'q'
        $document = [xml]"<domain>$xml</domain>"
        $document.domain.filesystem.source.socket | Should -Be "/tmp/it's & <x>.sock"
    }

    It 'Writes one filesystem per piped share under one memoryBacking' {
        $a = New-VirtioFsTestShareRoot -Name 'la'
        $b = New-VirtioFsTestShareRoot -Name 'lb'
        $shares = @(
            Start-VirtioFsShare -Path $a.Shared -Tag 'la' -SocketPath $a.SocketPath
            Start-VirtioFsShare -Path $b.Shared -Tag 'lb' -SocketPath $b.SocketPath
        )
        $document = [xml]('<domain>' + ($shares | New-LibvirtVirtioFsXml -MemoryBackend HugePages) + '</domain>')
        @($document.domain.memoryBacking).Count | Should -Be 1
        $document.domain.memoryBacking.hugepages | Should -Not -BeNullOrEmpty
        $document.domain.filesystem.target.dir | Should -Be @('la', 'lb')
    }

    It 'Throws InvalidQueueSize for a queue size that is not a power of two' {
        { New-LibvirtVirtioFsXml -SocketPath '/run/a.sock' -Tag 'a' -QueueSize 100 -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidQueueSize,VirtioFs.Cmdlets.NewLibvirtVirtioFsXmlCommand'
    }
}
