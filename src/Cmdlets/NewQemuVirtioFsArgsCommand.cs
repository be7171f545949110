using System.Management.Automation;
using VirtioFs.Backend.Qemu;

namespace VirtioFs.Cmdlets;

/// <summary>
/// New-QemuVirtioFsArgs: the QEMU arguments that attach shares to a guest: -m, a shared memory backend, how it
/// becomes guest RAM, and a -chardev plus a -device vhost-user-fs-pci per share. Shares from the pipeline are
/// collected and written as one object (one memory backend, devices fs0, fs1, ...). The plural noun is the
/// product's name for it (like "args" of a command line); the object is one set of arguments.
/// </summary>
[Cmdlet(VerbsCommon.New, "QemuVirtioFsArgs", DefaultParameterSetName = ByShare)]
[OutputType(typeof(QemuVirtioFsArguments))]
public sealed class NewQemuVirtioFsArgsCommand : PSCmdlet
{
    private const string ByShare = "ByShare";
    private const string BySocketPath = "BySocketPath";

    private readonly List<QemuVirtioFsDevice> _devices = new();

    /// <summary>Shares from Start-VirtioFsShare or Get-VirtioFsShare.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByShare)]
    [Alias("InputObject")]
    [ValidateNotNull]
    public VirtioFsShare[]? Share { get; set; }

    /// <summary>The socket of a share started elsewhere (virtiofs-host, virtiofsd).</summary>
    [Parameter(Mandatory = true, ParameterSetName = BySocketPath)]
    [ValidateNotNullOrEmpty]
    public string? SocketPath { get; set; }

    /// <summary>The mount tag for that socket.</summary>
    [Parameter(Mandatory = true, ParameterSetName = BySocketPath)]
    [ValidateNotNullOrEmpty]
    public string? Tag { get; set; }

    /// <summary>Guest RAM in bytes (512MB, 4GB): written as -m and as the backend's size, which must be equal.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    public ulong MemorySize { get; set; }

    /// <summary>Memfd (default), File or HugePages.</summary>
    [Parameter]
    public QemuMemoryBackend MemoryBackend { get; set; } = QemuMemoryBackend.Memfd;

    /// <summary>mem-path of the File backend (required) or the HugePages backend (default /dev/hugepages).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? MemoryPath { get; set; }

    /// <summary>Machine (-machine memory-backend=mem, default) or Numa (-numa node,memdev=mem).</summary>
    [Parameter]
    public QemuMemoryAttachment MemoryAttachment { get; set; } = QemuMemoryAttachment.Machine;

    /// <summary>Descriptors per virtqueue, a power of two up to 1024. Default 1024 (or the share's maximum if smaller).</summary>
    [Parameter]
    public int QueueSize { get; set; }

    /// <summary>num-request-queues. Default: what the share serves (1 for an explicit socket).</summary>
    [Parameter]
    public int RequestQueues { get; set; }

    protected override void ProcessRecord()
    {
        int? queueSize = MyInvocation.BoundParameters.ContainsKey(nameof(QueueSize)) ? QueueSize : null;
        int? requestQueues = MyInvocation.BoundParameters.ContainsKey(nameof(RequestQueues)) ? RequestQueues : null;
        if (ParameterSetName == BySocketPath)
        {
            _devices.Add(VirtioFsDevices.Explicit(GetUnresolvedProviderPathFromPSPath(SocketPath), Tag!, queueSize, requestQueues));
            return;
        }
        foreach (VirtioFsShare share in Share!)
        {
            _devices.Add(VirtioFsDevices.FromShare(share, queueSize, requestQueues));
        }
    }

    protected override void EndProcessing()
    {
        string? memoryPath = MemoryPath is null ? null : GetUnresolvedProviderPathFromPSPath(MemoryPath);
        try
        {
            WriteObject(QemuArgumentBuilder.Build(new QemuVirtioFsOptions
            {
                Devices = _devices,
                MemorySize = MemorySize,
                MemoryBackend = MemoryBackend,
                MemoryPath = memoryPath,
                Attachment = MemoryAttachment,
            }));
        }
        catch (QemuConfigurationException e)
        {
            ThrowTerminatingError(VirtioFsDevices.Error(e, _devices.Count == 1 ? _devices[0] : _devices));
        }
    }
}
