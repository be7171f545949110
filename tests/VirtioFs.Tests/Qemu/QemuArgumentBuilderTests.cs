using Xunit;
using VirtioFs.Backend.Qemu;

namespace VirtioFs.Tests.Qemu;

/// <summary>Golden output of the QEMU argument builder, and every validation it promises.</summary>
public sealed class QemuArgumentBuilderTests
{
    private static QemuVirtioFsDevice Device(string socket = "/run/virtiofs/src.sock", string tag = "src") => new() { SocketPath = socket, Tag = tag };

    private static QemuVirtioFsArguments Build(
        QemuVirtioFsDevice[]? devices = null, ulong memory = 4UL << 30, QemuMemoryBackend backend = QemuMemoryBackend.Memfd,
        string? path = null, QemuMemoryAttachment attachment = QemuMemoryAttachment.Machine)
        => QemuArgumentBuilder.Build(new QemuVirtioFsOptions
        {
            Devices = devices ?? new[] { Device() },
            MemorySize = memory,
            MemoryBackend = backend,
            MemoryPath = path,
            Attachment = attachment,
        });

    private static QemuConfigurationProblem ProblemOf(Action build)
        => Assert.Throws<QemuConfigurationException>(build).Problem;

    [Fact]
    public void DefaultIsMemfdAttachedThroughMachine()
    {
        var result = Build();
        Assert.Equal(new[]
        {
            "-m", "4G",
            "-object", "memory-backend-memfd,id=mem,size=4G,share=on",
            "-machine", "memory-backend=mem",
            "-chardev", "socket,id=char-fs0,path=/run/virtiofs/src.sock",
            "-device", "vhost-user-fs-pci,chardev=char-fs0,tag=src,queue-size=1024,num-request-queues=1,id=fs0",
        }, result.Arguments);
        Assert.Equal(
            "-m 4G -object memory-backend-memfd,id=mem,size=4G,share=on -machine memory-backend=mem " +
            "-chardev socket,id=char-fs0,path=/run/virtiofs/src.sock " +
            "-device vhost-user-fs-pci,chardev=char-fs0,tag=src,queue-size=1024,num-request-queues=1,id=fs0",
            result.ToString());
    }

    [Fact]
    public void NumaAttachmentUsesMemdev()
    {
        var result = Build(attachment: QemuMemoryAttachment.Numa, memory: 512UL << 20);
        Assert.Equal(new[] { "-m", "512M", "-object", "memory-backend-memfd,id=mem,size=512M,share=on", "-numa", "node,memdev=mem" }, result.Arguments[..6]);
    }

    [Fact]
    public void FileBackendWritesMemPath()
    {
        var result = Build(backend: QemuMemoryBackend.File, path: "/dev/shm");
        Assert.Equal("memory-backend-file,id=mem,size=4G,mem-path=/dev/shm,share=on", result.Arguments[3]);
    }

    [Fact]
    public void HugePagesDefaultToDevHugepages()
    {
        var result = Build(backend: QemuMemoryBackend.HugePages);
        Assert.Equal("memory-backend-file,id=mem,size=4G,mem-path=/dev/hugepages,share=on", result.Arguments[3]);
    }

    [Fact]
    public void MinusMAndBackendSizeAreTheSameText()
    {
        // A bare number means MiB to -m but bytes to size=: both must carry the same suffix.
        var result = Build(memory: 1536UL << 20);
        Assert.Equal("1536M", result.Arguments[1]);
        Assert.Contains("size=1536M,", result.Arguments[3]);
        Assert.Equal(1536UL << 20, result.MemorySize);
    }

    [Fact]
    public void PathsWithSpacesAndQuotesStayOneArgumentAndAreShellQuoted()
    {
        var result = Build(
            devices: new[] { Device(socket: "/tmp/my share/it's here.sock", tag: "my tag") },
            backend: QemuMemoryBackend.File, path: "/mnt/guest ram");
        Assert.Equal("memory-backend-file,id=mem,size=4G,mem-path=/mnt/guest ram,share=on", result.Arguments[3]);
        Assert.Equal("socket,id=char-fs0,path=/tmp/my share/it's here.sock", result.Arguments[7]);
        Assert.Equal("vhost-user-fs-pci,chardev=char-fs0,tag=my tag,queue-size=1024,num-request-queues=1,id=fs0", result.Arguments[9]);
        Assert.Equal(
            "-m 4G -object 'memory-backend-file,id=mem,size=4G,mem-path=/mnt/guest ram,share=on' -machine memory-backend=mem " +
            "-chardev 'socket,id=char-fs0,path=/tmp/my share/it'\\''s here.sock' " +
            "-device 'vhost-user-fs-pci,chardev=char-fs0,tag=my tag,queue-size=1024,num-request-queues=1,id=fs0'",
            result.ToString());
    }

    [Fact]
    public void CommasInValuesAreDoubledForQemu()
    {
        var result = Build(devices: new[] { Device(socket: "/tmp/a,b.sock", tag: "x,y") });
        Assert.Equal("socket,id=char-fs0,path=/tmp/a,,b.sock", result.Arguments[7]);
        Assert.Contains("tag=x,,y,", result.Arguments[9]);
    }

    [Fact]
    public void ShellLineRoundTripsThroughSh()
    {
        // The real test of quoting: let /bin/sh split the line and compare with the array.
        var result = Build(devices: new[] { Device(socket: "/tmp/sp ace/q'uote\"d $HOME `x` \\.sock", tag: "t") });
        var psi = new System.Diagnostics.ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("for a in " + result + "; do printf '%s\\0' \"$a\"; done");
        using var sh = System.Diagnostics.Process.Start(psi)!;
        string output = sh.StandardOutput.ReadToEnd();
        sh.WaitForExit();
        Assert.Equal(result.Arguments, output.TrimEnd('\0').Split('\0'));
    }

    [Fact]
    public void SeveralDevicesShareOneMemoryBackend()
    {
        var result = Build(devices: new[] { Device("/run/a.sock", "a"), Device("/run/b.sock", "b") with { RequestQueues = 2, ServedRequestQueues = 4 } });
        Assert.Single(result.Arguments, a => a.StartsWith("memory-backend-", StringComparison.Ordinal));
        Assert.Equal("vhost-user-fs-pci,chardev=char-fs1,tag=b,queue-size=1024,num-request-queues=2,id=fs1", result.Arguments[^1]);
        Assert.Equal(2, result.Devices.Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a-tag-that-is-much-longer-than-36-bytes")]
    [InlineData("ééééééééééééééééééé")]   // 19 characters but 38 UTF-8 bytes
    [InlineData("new\nline")]
    public void RejectsBadTags(string tag)
        => Assert.Equal(QemuConfigurationProblem.InvalidTag, ProblemOf(() => Build(devices: new[] { Device(tag: tag) })));

    [Fact]
    public void AcceptsA36ByteTag()
        => Assert.Contains("tag=" + new string('t', 36) + ",", Build(devices: new[] { Device(tag: new string('t', 36)) }).Arguments[9]);

    [Fact]
    public void RejectsDuplicateTags()
        => Assert.Equal(QemuConfigurationProblem.DuplicateTag, ProblemOf(() => Build(devices: new[] { Device("/run/a.sock", "x"), Device("/run/b.sock", "x") })));

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(1000)]
    [InlineData(2048)]
    public void RejectsQueueSizesQemuRefuses(int size)
        => Assert.Equal(QemuConfigurationProblem.InvalidQueueSize, ProblemOf(() => Build(devices: new[] { Device() with { QueueSize = size } })));

    [Theory]
    [InlineData(1)]
    [InlineData(128)]
    [InlineData(1024)]
    public void AcceptsPowerOfTwoQueueSizes(int size)
        => Assert.Contains($"queue-size={size},", Build(devices: new[] { Device() with { QueueSize = size } }).Arguments[9]);

    [Fact]
    public void RejectsAQueueSizeTheShareDoesNotAccept()
        => Assert.Equal(QemuConfigurationProblem.QueueSizeNotServed, ProblemOf(() => Build(devices: new[] { Device() with { QueueSize = 1024, ServedMaxQueueSize = 256 } })));

    [Fact]
    public void RejectsMoreRequestQueuesThanTheShareServes()
    {
        var e = Assert.Throws<QemuConfigurationException>(() => Build(devices: new[] { Device() with { RequestQueues = 2, ServedRequestQueues = 1 } }));
        Assert.Equal(QemuConfigurationProblem.RequestQueuesNotServed, e.Problem);
        Assert.Contains("-RequestQueues 2", e.Message);
    }

    [Fact]
    public void RejectsZeroRequestQueues()
        => Assert.Equal(QemuConfigurationProblem.InvalidRequestQueues, ProblemOf(() => Build(devices: new[] { Device() with { RequestQueues = 0 } })));

    [Theory]
    [InlineData(0UL)]
    [InlineData(1000UL)]
    [InlineData((1UL << 30) + 4096)]
    public void RejectsMemorySizesThatAreNotWholeMiB(ulong bytes)
        => Assert.Equal(QemuConfigurationProblem.InvalidMemorySize, ProblemOf(() => Build(memory: bytes)));

    [Fact]
    public void HugePagesNeedWholeTwoMiBPages()
        => Assert.Equal(QemuConfigurationProblem.InvalidMemorySize, ProblemOf(() => Build(memory: 513UL << 20, backend: QemuMemoryBackend.HugePages)));

    [Fact]
    public void FileBackendNeedsAnAbsolutePath()
    {
        Assert.Equal(QemuConfigurationProblem.InvalidMemoryPath, ProblemOf(() => Build(backend: QemuMemoryBackend.File)));
        Assert.Equal(QemuConfigurationProblem.InvalidMemoryPath, ProblemOf(() => Build(backend: QemuMemoryBackend.File, path: "shm")));
    }

    [Fact]
    public void MemfdTakesNoPath()
        => Assert.Equal(QemuConfigurationProblem.InvalidMemoryPath, ProblemOf(() => Build(path: "/dev/shm")));

    [Theory]
    [InlineData("run/relative.sock")]
    [InlineData("")]
    public void RejectsRelativeOrEmptySocketPaths(string socket)
        => Assert.Equal(QemuConfigurationProblem.InvalidSocketPath, ProblemOf(() => Build(devices: new[] { Device(socket: socket) })));

    [Fact]
    public void RejectsSocketPathsLongerThanSunPath()
        => Assert.Equal(QemuConfigurationProblem.InvalidSocketPath, ProblemOf(() => Build(devices: new[] { Device(socket: "/" + new string('s', 107)) })));

    [Fact]
    public void RejectsNoDevices()
        => Assert.Equal(QemuConfigurationProblem.NoDevice, ProblemOf(() => Build(devices: Array.Empty<QemuVirtioFsDevice>())));

    [Fact]
    public void RejectsABadMemoryId()
        => Assert.Equal(QemuConfigurationProblem.InvalidId, ProblemOf(() => QemuArgumentBuilder.Build(new QemuVirtioFsOptions
        {
            Devices = new[] { Device() },
            MemorySize = 1UL << 30,
            MemoryId = "1mem",
        })));

    [Theory]
    [InlineData(1UL << 40, "1T")]
    [InlineData(3UL << 30, "3G")]
    [InlineData(1536UL << 20, "1536M")]
    [InlineData(4096UL, "4K")]
    [InlineData(1000UL, "1000")]
    public void SizesUseTheLargestWholeUnit(ulong bytes, string text) => Assert.Equal(text, QemuSize.Format(bytes));
}
