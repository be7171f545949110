namespace VirtioFs.EndToEnd.Infrastructure;

/// <summary>
/// One boot of the test guest: which kernel and initramfs, which vhost-user socket, and what /init should run
/// (tests/EndToEnd/guest/init reads vfs_tag and vfs_test from the kernel command line).
/// </summary>
internal sealed record GuestBoot(string KernelPath, string InitrdPath, string SocketPath, string Tag, string TestName)
{
    public const string QemuBinary = "qemu-system-x86_64";

    /// <summary>
    /// QEMU's arguments. TCG because KVM hangs on these machines; vhost-user needs guest RAM in a shared memfd
    /// the daemon can map, attached to a NUMA node; no NIC, so the firmware does not try PXE first.
    /// </summary>
    public IReadOnlyList<string> QemuArguments() =>
    [
        "-accel", "tcg",
        "-smp", "2",
        "-m", "512M",
        "-object", "memory-backend-memfd,id=mem,size=512M,share=on",
        "-numa", "node,memdev=mem",
        "-chardev", $"socket,id=char0,path={SocketPath}",
        "-device", $"vhost-user-fs-pci,chardev=char0,tag={Tag},queue-size=1024",
        "-nic", "none",
        "-kernel", KernelPath,
        "-initrd", InitrdPath,
        // quiet: fewer kernel lines to interleave with the results; panic=-1 with -no-reboot ends QEMU if /init dies.
        "-append", $"console=ttyS0 quiet panic=-1 vfs_tag={Tag} vfs_test={TestName}",
        "-nographic",
        "-no-reboot",
    ];
}
