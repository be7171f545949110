using System.Management.Automation;
using VirtioFs.Backend.Qemu;

namespace VirtioFs.Cmdlets;

/// <summary>
/// New-LibvirtVirtioFsXml: the libvirt domain XML for shares whose daemon runs outside libvirt: one
/// &lt;memoryBacking&gt; (under &lt;domain&gt;) and a &lt;filesystem type='mount'&gt; with &lt;source socket=.../&gt; per share
/// (under &lt;devices&gt;). A sibling of New-QemuVirtioFsArgs rather than a -Format of it, because the two take
/// different inputs: libvirt sizes RAM itself, reads the file backend's directory from qemu.conf, and has no
/// setting for num-request-queues, so this cmdlet has no -MemorySize, -MemoryPath, -MemoryAttachment or -RequestQueues.
/// </summary>
[Cmdlet(VerbsCommon.New, "LibvirtVirtioFsXml", DefaultParameterSetName = ByShare)]
[OutputType(typeof(string))]
public sealed class NewLibvirtVirtioFsXmlCommand : PSCmdlet
{
    private const string ByShare = "ByShare";
    private const string BySocketPath = "BySocketPath";

    private readonly List<QemuVirtioFsDevice> _devices = new();

    /// <summary>Shares from Start-VirtioFsShare or Get-VirtioFsShare.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByShare)]
    [Alias("InputObject")]
    [ValidateNotNull]
    public VirtioFsShare[]? Share { get; set; }

    /// <summary>The socket of a share started elsewhere.</summary>
    [Parameter(Mandatory = true, ParameterSetName = BySocketPath)]
    [ValidateNotNullOrEmpty]
    public string? SocketPath { get; set; }

    /// <summary>The mount tag for that socket.</summary>
    [Parameter(Mandatory = true, ParameterSetName = BySocketPath)]
    [ValidateNotNullOrEmpty]
    public string? Tag { get; set; }

    /// <summary>Memfd (default), File or HugePages.</summary>
    [Parameter]
    public QemuMemoryBackend MemoryBackend { get; set; } = QemuMemoryBackend.Memfd;

    /// <summary>The &lt;driver queue=.../&gt; size, a power of two up to 1024. Default 1024 (or the share's maximum if smaller).</summary>
    [Parameter]
    public int QueueSize { get; set; }

    protected override void ProcessRecord()
    {
        int? queueSize = MyInvocation.BoundParameters.ContainsKey(nameof(QueueSize)) ? QueueSize : null;
        if (ParameterSetName == BySocketPath)
        {
            _devices.Add(VirtioFsDevices.Explicit(GetUnresolvedProviderPathFromPSPath(SocketPath), Tag!, queueSize, 1));
            return;
        }
        foreach (VirtioFsShare share in Share!)
        {
            // libvirt cannot ask for more than one request queue; the share serving more is fine.
            _devices.Add(VirtioFsDevices.FromShare(share, queueSize, 1));
        }
    }

    protected override void EndProcessing()
    {
        try
        {
            WriteObject(LibvirtXmlBuilder.Build(_devices, MemoryBackend));
        }
        catch (QemuConfigurationException e)
        {
            ThrowTerminatingError(VirtioFsDevices.Error(e, _devices.Count == 1 ? _devices[0] : _devices));
        }
    }
}
