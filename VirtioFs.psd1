@{
    RootModule           = 'VirtioFs.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5c0f7e4a-2d43-4c1e-9a8e-6b1f3c7d9e21'
    Author               = 'VirtioFs developers'
    CompanyName          = 'VirtioFs'
    Copyright            = '(c) VirtioFs developers'
    Description          = 'Runs vhost-user virtio-fs shares (the job of virtiofsd) inside PowerShell: a Linux guest under QEMU mounts a host directory with mount -t virtiofs.'
    CompatiblePSEditions = @('Core')
    PowerShellVersion    = '7.4'
    # The cmdlets arrive with the PowerShell module issue; until then the module exports nothing.
    CmdletsToExport      = @()
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags = @('virtiofs', 'vhost-user', 'qemu', 'fuse', 'Linux', 'PSEdition_Core')
        }
    }
}
