using System.Xml.Linq;
using Xunit;
using VirtioFs.Backend.Qemu;

namespace VirtioFs.Tests.Qemu;

/// <summary>Golden output against libvirt's documented form for an externally launched virtiofsd.</summary>
public sealed class LibvirtXmlBuilderTests
{
    private static QemuVirtioFsDevice Device(string socket = "/run/virtiofs/src.sock", string tag = "src") => new() { SocketPath = socket, Tag = tag };

    [Fact]
    public void MemfdAndOneFilesystem()
    {
        Assert.Equal(
            "<memoryBacking>\n" +
            "  <source type='memfd'/>\n" +
            "  <access mode='shared'/>\n" +
            "</memoryBacking>\n" +
            "<filesystem type='mount'>\n" +
            "  <driver type='virtiofs' queue='1024'/>\n" +
            "  <source socket='/run/virtiofs/src.sock'/>\n" +
            "  <target dir='src'/>\n" +
            "</filesystem>\n",
            LibvirtXmlBuilder.Build(new[] { Device() }));
    }

    [Theory]
    [InlineData(QemuMemoryBackend.File, "  <source type='file'/>\n")]
    [InlineData(QemuMemoryBackend.HugePages, "  <hugepages/>\n")]
    public void OtherMemoryBackends(QemuMemoryBackend backend, string line)
        => Assert.Equal("<memoryBacking>\n" + line + "  <access mode='shared'/>\n</memoryBacking>\n",
            LibvirtXmlBuilder.Build(new[] { Device() }, backend).Split("<filesystem")[0]);

    [Fact]
    public void QuotesAndAmpersandsAreEscapedAndParseBack()
    {
        string socket = "/tmp/my share/it's \"a\" <b> & c.sock";
        string xml = LibvirtXmlBuilder.Build(new[] { Device(socket: socket, tag: "t'ag") });
        Assert.Contains("<source socket='/tmp/my share/it&apos;s &quot;a&quot; &lt;b&gt; &amp; c.sock'/>", xml);
        var root = XElement.Parse("<domain>" + xml + "</domain>");
        XElement fs = root.Element("filesystem")!;
        Assert.Equal(socket, fs.Element("source")!.Attribute("socket")!.Value);
        Assert.Equal("t'ag", fs.Element("target")!.Attribute("dir")!.Value);
    }

    [Fact]
    public void OneMemoryBackingForSeveralFilesystems()
    {
        var root = XElement.Parse("<domain>" + LibvirtXmlBuilder.Build(new[] { Device("/run/a.sock", "a"), Device("/run/b.sock", "b") with { QueueSize = 512 } }) + "</domain>");
        Assert.Single(root.Elements("memoryBacking"));
        Assert.Equal(new[] { "a", "b" }, root.Elements("filesystem").Select(f => f.Element("target")!.Attribute("dir")!.Value));
        Assert.Equal("512", root.Elements("filesystem").Last().Element("driver")!.Attribute("queue")!.Value);
    }

    [Fact]
    public void ValidatesLikeTheQemuBuilder()
    {
        Assert.Equal(QemuConfigurationProblem.InvalidTag, Assert.Throws<QemuConfigurationException>(() => LibvirtXmlBuilder.Build(new[] { Device(tag: "") })).Problem);
        Assert.Equal(QemuConfigurationProblem.InvalidQueueSize, Assert.Throws<QemuConfigurationException>(() => LibvirtXmlBuilder.Build(new[] { Device() with { QueueSize = 100 } })).Problem);
        Assert.Equal(QemuConfigurationProblem.InvalidRequestQueues, Assert.Throws<QemuConfigurationException>(() => LibvirtXmlBuilder.Build(new[] { Device() with { RequestQueues = 2 } })).Problem);
    }
}
