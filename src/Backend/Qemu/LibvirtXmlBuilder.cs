using System.Text;

namespace VirtioFs.Backend.Qemu;

/// <summary>
/// libvirt domain XML for shares whose daemon runs outside libvirt (ours): libvirt only connects QEMU to the socket.
/// Written in libvirt's documented form (single-quoted attributes, two-space indent):
/// <code>
/// &lt;memoryBacking&gt;                       goes under &lt;domain&gt;
///   &lt;source type='memfd'/&gt;
///   &lt;access mode='shared'/&gt;
/// &lt;/memoryBacking&gt;
/// &lt;filesystem type='mount'&gt;              goes under &lt;devices&gt;, one per share
///   &lt;driver type='virtiofs' queue='1024'/&gt;
///   &lt;source socket='/run/virtiofs/src.sock'/&gt;
///   &lt;target dir='src'/&gt;
/// &lt;/filesystem&gt;
/// </code>
/// libvirt has no per-domain path for a file backend (qemu.conf's memory_backing_dir decides) and no element for
/// num-request-queues, so neither is asked for here.
/// </summary>
public static class LibvirtXmlBuilder
{
    public static string Build(IReadOnlyList<QemuVirtioFsDevice> devices, QemuMemoryBackend memoryBackend = QemuMemoryBackend.Memfd)
    {
        DeviceValidation.Check(devices);
        var xml = new StringBuilder();
        xml.Append("<memoryBacking>\n");
        xml.Append(memoryBackend switch
        {
            QemuMemoryBackend.Memfd => "  <source type='memfd'/>\n",
            QemuMemoryBackend.File => "  <source type='file'/>\n",
            QemuMemoryBackend.HugePages => "  <hugepages/>\n",
            _ => throw new ArgumentOutOfRangeException(nameof(memoryBackend), memoryBackend, "Unknown memory backend."),
        });
        xml.Append("  <access mode='shared'/>\n");
        xml.Append("</memoryBacking>\n");
        foreach (QemuVirtioFsDevice device in devices)
        {
            if (device.RequestQueues != 1)
                throw new QemuConfigurationException(QemuConfigurationProblem.InvalidRequestQueues,
                    "libvirt's <filesystem> has no setting for num-request-queues; QEMU then uses 1. Generate QEMU arguments instead to use more.", nameof(device.RequestQueues));
            xml.Append("<filesystem type='mount'>\n");
            xml.Append($"  <driver type='virtiofs' queue='{device.QueueSize}'/>\n");
            xml.Append($"  <source socket='{Attribute(device.SocketPath)}'/>\n");
            xml.Append($"  <target dir='{Attribute(device.Tag)}'/>\n");
            xml.Append("</filesystem>\n");
        }
        return xml.ToString();
    }

    /// <summary>Escapes a value for a single-quoted XML attribute.</summary>
    public static string Attribute(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (char c in value)
        {
            sb.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '\'' => "&apos;",
                '"' => "&quot;",
                '\t' => "&#9;",   // XML normalizes literal whitespace in attribute values; keep it as written
                '\n' => "&#10;",
                '\r' => "&#13;",
                _ => c.ToString(),
            });
        }
        return sb.ToString();
    }
}
