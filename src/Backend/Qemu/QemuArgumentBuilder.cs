using System.Text.RegularExpressions;

namespace VirtioFs.Backend.Qemu;

/// <summary>
/// Builds the QEMU arguments that attach virtio-fs shares to a guest:
/// <code>
/// -m 4G
/// -object memory-backend-memfd,id=mem,size=4G,share=on
/// -machine memory-backend=mem                 (or: -numa node,memdev=mem)
/// -chardev socket,id=char-fs0,path=/run/virtiofs/src.sock
/// -device vhost-user-fs-pci,chardev=char-fs0,tag=src,queue-size=1024,num-request-queues=1,id=fs0
/// </code>
/// Values are escaped for QEMU's option syntax (a comma inside a value is written twice), never for a shell: the
/// result is an argv array, and only <see cref="QemuVirtioFsArguments.ToString"/> quotes for a shell.
/// </summary>
public static partial class QemuArgumentBuilder
{
    /// <summary>hugetlbfs pages are at least 2 MiB on x86-64; a backend size must be a whole number of them.</summary>
    public const ulong HugePageSize = 2 * QemuSize.MiB;

    /// <summary>Where hugetlbfs is mounted on Debian, Fedora and friends.</summary>
    public const string DefaultHugePagesPath = "/dev/hugepages";

    public static QemuVirtioFsArguments Build(QemuVirtioFsOptions options)
    {
        DeviceValidation.Check(options.Devices);
        string memoryPath = CheckMemory(options);
        CheckId(options.MemoryId);

        var args = new List<string>();
        string size = QemuSize.Format(options.MemorySize);
        args.Add("-m");
        args.Add(size);
        args.Add("-object");
        args.Add(options.MemoryBackend == QemuMemoryBackend.Memfd
            ? $"memory-backend-memfd,id={options.MemoryId},size={size},share=on"
            : $"memory-backend-file,id={options.MemoryId},size={size},mem-path={Escape(memoryPath)},share=on");
        if (options.Attachment == QemuMemoryAttachment.Machine)
        {
            // QEMU merges repeated -machine options, so this adds to the user's own "-machine q35,accel=...".
            args.Add("-machine");
            args.Add($"memory-backend={options.MemoryId}");
        }
        else
        {
            args.Add("-numa");
            args.Add($"node,memdev={options.MemoryId}");
        }
        for (int i = 0; i < options.Devices.Count; i++)
        {
            QemuVirtioFsDevice device = options.Devices[i];
            string id = $"fs{i}", chardev = $"char-fs{i}";
            args.Add("-chardev");
            args.Add($"socket,id={chardev},path={Escape(device.SocketPath)}");
            args.Add("-device");
            args.Add($"vhost-user-fs-pci,chardev={chardev},tag={Escape(device.Tag)},queue-size={device.QueueSize},num-request-queues={device.RequestQueues},id={id}");
        }
        return new QemuVirtioFsArguments(args.ToArray(), options.Devices, options.MemorySize);
    }

    /// <summary>QEMU's option syntax ends a value at a comma; a literal comma is written as two.</summary>
    public static string Escape(string value) => value.Replace(",", ",,", StringComparison.Ordinal);

    private static string CheckMemory(QemuVirtioFsOptions options)
    {
        ulong bytes = options.MemorySize;
        if (bytes == 0 || bytes % QemuSize.MiB != 0)
            throw new QemuConfigurationException(QemuConfigurationProblem.InvalidMemorySize,
                $"The memory size {bytes} bytes is not a whole, non-zero number of MiB. Pass a size such as 512MB or 4GB.", nameof(options.MemorySize));
        switch (options.MemoryBackend)
        {
            case QemuMemoryBackend.Memfd:
                if (options.MemoryPath is not null)
                    throw new QemuConfigurationException(QemuConfigurationProblem.InvalidMemoryPath,
                        "A memfd backend has no path. Drop the memory path, or choose the File or HugePages backend.", nameof(options.MemoryPath));
                return "";
            case QemuMemoryBackend.File:
                if (string.IsNullOrEmpty(options.MemoryPath) || !Path.IsPathFullyQualified(options.MemoryPath))
                    throw new QemuConfigurationException(QemuConfigurationProblem.InvalidMemoryPath,
                        "A file backend needs an absolute mem-path (a directory such as /dev/shm, or a file). Pass one.", nameof(options.MemoryPath));
                return options.MemoryPath;
            case QemuMemoryBackend.HugePages:
                if (bytes % HugePageSize != 0)
                    throw new QemuConfigurationException(QemuConfigurationProblem.InvalidMemorySize,
                        $"The memory size {QemuSize.Format(bytes)} is not a whole number of 2 MiB huge pages. Round it to a multiple of 2MB.", nameof(options.MemorySize));
                string path = options.MemoryPath ?? DefaultHugePagesPath;
                if (!Path.IsPathFullyQualified(path))
                    throw new QemuConfigurationException(QemuConfigurationProblem.InvalidMemoryPath,
                        $"The hugetlbfs path '{path}' is not absolute. Pass the mount point, such as {DefaultHugePagesPath}.", nameof(options.MemoryPath));
                return path;
            default:
                throw new ArgumentOutOfRangeException(nameof(options), options.MemoryBackend, "Unknown memory backend.");
        }
    }

    private static void CheckId(string id)
    {
        if (!IdPattern().IsMatch(id))
            throw new QemuConfigurationException(QemuConfigurationProblem.InvalidId,
                $"'{id}' is not a valid QEMU id: start with a letter, then letters, digits, '-', '.' or '_'.", nameof(QemuVirtioFsOptions.MemoryId));
    }

    // QEMU's id_wellformed(): a letter, then letters, digits, '-', '.', '_'.
    [GeneratedRegex("^[A-Za-z][A-Za-z0-9._-]*$")]
    private static partial Regex IdPattern();
}
