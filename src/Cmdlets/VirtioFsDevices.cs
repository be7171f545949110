using System.Management.Automation;
using VirtioFs.Backend.Qemu;

namespace VirtioFs.Cmdlets;

/// <summary>Turns shares (or an explicit socket and tag) into device descriptions for the QEMU and libvirt generators.</summary>
internal static class VirtioFsDevices
{
    /// <summary>
    /// A share's device: its socket and tag, and what it serves, so that the generators refuse what QEMU would refuse.
    /// The queue size defaults to 1024 (QEMU's maximum) or the share's own maximum when that is smaller.
    /// </summary>
    public static QemuVirtioFsDevice FromShare(VirtioFsShare share, int? queueSize, int? requestQueues)
    {
        if (share.Tag.Length == 0)
            throw new PSArgumentException(string.Format(Strings.ShareHasNoTag, share.Name));
        int served = share.Options.MaxQueueSize;
        return new QemuVirtioFsDevice
        {
            SocketPath = share.SocketPath ?? "",
            Tag = share.Tag,
            QueueSize = queueSize ?? Math.Min(QemuVirtioFsDevice.MaxQueueSize, served),
            RequestQueues = requestQueues ?? share.Options.RequestQueues,
            ServedRequestQueues = share.Options.RequestQueues,
            ServedMaxQueueSize = served,
        };
    }

    public static QemuVirtioFsDevice Explicit(string socketPath, string tag, int? queueSize, int? requestQueues) => new()
    {
        SocketPath = socketPath,
        Tag = tag,
        QueueSize = queueSize ?? QemuVirtioFsDevice.MaxQueueSize,
        RequestQueues = requestQueues ?? 1,
    };

    /// <summary>A configuration problem as a terminating error whose ErrorId names the problem (InvalidTag, ...).</summary>
    public static ErrorRecord Error(QemuConfigurationException e, object? target)
        => new(e, e.Problem.ToString(), ErrorCategory.InvalidArgument, target);
}
