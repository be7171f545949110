using System.Text;
using VirtioFs.Backend.Share;

namespace VirtioFs.Backend.Qemu;

/// <summary>The checks QEMU (or the guest) would otherwise make later and less clearly; shared by both generators.</summary>
internal static class DeviceValidation
{
    /// <summary>sun_path holds 108 bytes including the terminating NUL.</summary>
    private const int MaxSocketPathBytes = 107;

    public static void Check(IReadOnlyList<QemuVirtioFsDevice> devices)
    {
        if (devices.Count == 0)
            throw new QemuConfigurationException(QemuConfigurationProblem.NoDevice, "No virtio-fs device was given. Pass a share or a socket path and a tag.");
        var tags = new HashSet<string>(StringComparer.Ordinal);
        foreach (QemuVirtioFsDevice device in devices)
        {
            CheckTag(device.Tag);
            if (!tags.Add(device.Tag))
                throw new QemuConfigurationException(QemuConfigurationProblem.DuplicateTag,
                    $"The tag '{device.Tag}' is used by two devices; the guest refuses the second one. Give each share its own tag.", nameof(device.Tag));
            CheckSocketPath(device.SocketPath);
            CheckQueues(device);
        }
    }

    private static void CheckTag(string tag)
    {
        try
        {
            ShareOptions.ValidateTag(tag);
        }
        catch (ArgumentException e)
        {
            throw new QemuConfigurationException(QemuConfigurationProblem.InvalidTag, e.Message, nameof(QemuVirtioFsDevice.Tag));
        }
    }

    private static void CheckSocketPath(string path)
    {
        if (string.IsNullOrEmpty(path) || !Path.IsPathFullyQualified(path))
            throw new QemuConfigurationException(QemuConfigurationProblem.InvalidSocketPath,
                $"The socket path '{path}' is not absolute; QEMU would resolve it against its own working directory. Pass a full path.", nameof(QemuVirtioFsDevice.SocketPath));
        int bytes = Encoding.UTF8.GetByteCount(path);
        if (bytes > MaxSocketPathBytes || path.Contains('\0'))
            throw new QemuConfigurationException(QemuConfigurationProblem.InvalidSocketPath,
                $"The socket path '{path}' is {bytes} bytes; a UNIX socket address holds at most {MaxSocketPathBytes}. Choose a shorter path.", nameof(QemuVirtioFsDevice.SocketPath));
    }

    private static void CheckQueues(QemuVirtioFsDevice device)
    {
        int size = device.QueueSize;
        if (size < 1 || size > QemuVirtioFsDevice.MaxQueueSize || (size & (size - 1)) != 0)
            throw new QemuConfigurationException(QemuConfigurationProblem.InvalidQueueSize,
                $"The queue size {size} is not a power of two between 1 and {QemuVirtioFsDevice.MaxQueueSize}, which QEMU requires. Use 1024 unless you have a reason not to.", nameof(device.QueueSize));
        if (device.ServedMaxQueueSize is int served && size > served)
            throw new QemuConfigurationException(QemuConfigurationProblem.QueueSizeNotServed,
                $"The queue size {size} is larger than the share accepts ({served}). Use a queue size of at most {served}, or start the share with a larger -QueueSize.", nameof(device.QueueSize));
        if (device.RequestQueues < 1)
            throw new QemuConfigurationException(QemuConfigurationProblem.InvalidRequestQueues,
                $"num-request-queues must be at least 1 (got {device.RequestQueues}).", nameof(device.RequestQueues));
        if (device.ServedRequestQueues is int servedQueues && device.RequestQueues > servedQueues)
            throw new QemuConfigurationException(QemuConfigurationProblem.RequestQueuesNotServed,
                $"The share for tag '{device.Tag}' serves {servedQueues} request queue(s), so QEMU would refuse num-request-queues={device.RequestQueues} " +
                $"(1 + num-request-queues must not exceed the share's {1 + servedQueues} queues). Ask for at most {servedQueues}, or restart the share with -RequestQueues {device.RequestQueues}.",
                nameof(device.RequestQueues));
    }
}
