@{
    RootModule           = 'VirtioFs.dll'
    # Kept equal to VersionPrefix in Directory.Build.props; scripts/stage-module.sh refuses to stage when they differ.
    ModuleVersion        = '0.1.0'
    GUID                 = '5c0f7e4a-2d43-4c1e-9a8e-6b1f3c7d9e21'
    Author               = 'VirtioFs developers'
    CompanyName          = 'VirtioFs'
    Copyright            = '(c) VirtioFs developers'
    Description          = 'Runs vhost-user virtio-fs shares (the job of virtiofsd) inside PowerShell: a Linux guest under QEMU mounts a host directory with mount -t virtiofs. Generates the QEMU arguments and libvirt XML that attach them.'
    CompatiblePSEditions = @('Core')
    PowerShellVersion    = '7.4'
    FormatsToProcess     = @('VirtioFs.format.ps1xml')
    CmdletsToExport      = @(
        'Start-VirtioFsShare'
        'Get-VirtioFsShare'
        'Stop-VirtioFsShare'
        'Get-VirtioFsQueueStats'
        'New-QemuVirtioFsArgs'
        'New-LibvirtVirtioFsXml'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags = @('virtiofs', 'vhost-user', 'qemu', 'libvirt', 'fuse', 'Linux', 'PSEdition_Core')
        }
    }
}
