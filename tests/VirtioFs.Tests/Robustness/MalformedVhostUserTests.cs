using System.Buffers.Binary;
using VirtioFs.Backend.Interop;
using VirtioFs.Backend.Share;
using VirtioFs.Frontend;
using VirtioFs.Tests.Hostile;
using Xunit;
using R = VirtioFs.Frontend.VhostUser.VhostUserRequest;

namespace VirtioFs.Tests.Robustness;

/// <summary>
/// vhost-user messages a broken or hostile front-end can send to a running share, over its real socket: a protocol
/// violation ends that connection with exactly one log line naming the reason, the share listens again and a NEW
/// frontend mounts and works. Refusals the protocol allows (SET_CONFIG, logging) keep the connection.
/// </summary>
public sealed class MalformedVhostUserTests : IDisposable
{
    private const uint V = R.FlagVersion;

    private readonly ConfinedShare _share = new(clientTimeout: TimeSpan.FromSeconds(5));

    public void Dispose() => _share.Dispose();

    private static byte[] U64(ulong value)
    {
        byte[] b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        return b;
    }

    private static byte[] State(uint index, uint num)
    {
        byte[] b = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(b, index);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), num);
        return b;
    }

    private static byte[] MemTable(params (ulong Gpa, ulong Size, ulong User, ulong Offset)[] regions)
    {
        byte[] b = new byte[8 + 32 * regions.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)regions.Length);
        for (int i = 0; i < regions.Length; i++)
        {
            var r = regions[i];
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8 + 32 * i), r.Gpa);
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16 + 32 * i), r.Size);
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(24 + 32 * i), r.User);
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(32 + 32 * i), r.Offset);
        }
        return b;
    }

    private static byte[] SingleRegion(ulong gpa, ulong size, ulong user) => [.. new byte[8], .. MemTable((gpa, size, user, 0)).AsSpan(8)];

    private static byte[] VringAddr(uint index, ulong desc, ulong used, ulong avail)
    {
        byte[] b = new byte[40];
        BinaryPrimitives.WriteUInt32LittleEndian(b, index);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), desc);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), used);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(24), avail);
        return b;
    }

    /// <summary>Runs <paramref name="send"/> with <paramref name="eventfds"/> fresh eventfds (closed afterwards).</summary>
    private static void WithEventfds(int eventfds, Action<int[]> send)
    {
        var fds = new SafeFd[eventfds];
        for (int i = 0; i < eventfds; i++) fds[i] = SafeFd.Check(Libc.eventfd(0, Libc.EFD_CLOEXEC), "eventfd");
        try
        {
            send(fds.Select(f => f.Value).ToArray());
        }
        finally
        {
            foreach (SafeFd fd in fds) fd.Dispose();
        }
    }

    public static TheoryData<string, string> Violations() => new()
    {
        { "SET_FEATURES with 4 payload bytes", "carries 4 payload bytes; 8 expected" },
        { "GET_FEATURES with 3 payload bytes", "none expected" },
        { "unknown request code 999", "unknown request code 999" },
        { "request code 0", "did not offer" },
        { "IOTLB_MSG, never offered", "did not offer" },
        { "protocol version 0", "protocol version 0" },
        { "payload of 100000 bytes announced", "at most" },
        { "header size larger than the bytes sent, then hang up", "connection closed inside the payload" },
        { "SET_VRING_KICK with 2 fds", "came with 2 file descriptors; 1 expected" },
        { "SET_VRING_CALL without an fd and without the no-fd flag", "came with 0 file descriptors; 1 expected" },
        { "SET_VRING_KICK with reserved bits", "reserved bits" },
        { "9 fds on one message", "more than 8 file descriptors" },
        { "SET_MEM_TABLE without fds", "came with 0 file descriptors; 1 expected" },
        { "SET_MEM_TABLE with 0 regions", "with 0 regions" },
        { "SET_MEM_TABLE with a wrong size", "must carry" },
        { "SET_MEM_TABLE with overlapping regions", "overlap" },
        { "SET_MEM_TABLE with a size that overflows", "overflows" },
        { "ADD_MEM_REG overlapping the mapped region", "overlap" },
        { "REM_MEM_REG of a region that is not mapped", "not mapped" },
        { "SET_VRING_NUM 1000, not a power of two", "not a power of two" },
        { "SET_VRING_NUM 0", "not a power of two" },
        { "SET_VRING_NUM 65536", "not a power of two" },
        { "SET_VRING_NUM on a running ring", "while it is running" },
        { "SET_VRING_NUM for ring 200", "this device has" },
        { "SET_VRING_BASE 70000", "not a split-ring index" },
        { "SET_VRING_ENABLE 2", "0 or 1 expected" },
        { "ring addresses outside memory, then kick", "cannot start" },
        { "misaligned used ring, then kick", "aligned" },
        { "SET_PROTOCOL_FEATURES with bits never offered", "did not offer" },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public void AViolationEndsThatConnectionWithOneLogLineAndANewFrontendWorks(string what, string reason)
    {
        VhostUserFrontend f = _share.Frontend;
        ulong user = f.Memory.UserAddressOf(0);
        ulong size = f.Memory.Size;
        int before = _share.LogCount("protocol violation");
        bool hangUp = false;
        switch (what)
        {
            case "SET_FEATURES with 4 payload bytes": f.SendRaw(R.SetFeatures, V, new byte[4], []); break;
            case "GET_FEATURES with 3 payload bytes": f.SendRaw(R.GetFeatures, V, new byte[3], []); break;
            case "unknown request code 999": f.SendRaw(999, V, U64(0), []); break;
            case "request code 0": f.SendRaw(0, V, [], []); break;
            case "IOTLB_MSG, never offered": f.SendRaw(R.IotlbMsg, V, new byte[64], []); break;
            case "protocol version 0": f.SendRaw(R.GetFeatures, 0, [], []); break;
            case "payload of 100000 bytes announced": f.SendRaw(R.SetFeatures, V, U64(1UL << 32), [], size: 100_000); break;
            case "header size larger than the bytes sent, then hang up":
                f.SendRaw(R.SetFeatures, V, U64(1UL << 32), [], size: 64);
                Thread.Sleep(50);
                hangUp = true;
                break;
            case "SET_VRING_KICK with 2 fds": WithEventfds(2, fds => f.SendRaw(R.SetVringKick, V, U64(1), fds)); break;
            case "SET_VRING_CALL without an fd and without the no-fd flag": f.SendRaw(R.SetVringCall, V, U64(1), []); break;
            case "SET_VRING_KICK with reserved bits": WithEventfds(1, fds => f.SendRaw(R.SetVringKick, V, U64(0x10001), fds)); break;
            case "9 fds on one message": WithEventfds(9, fds => f.SendRaw(R.SetVringCall, V, U64(1), fds)); break;
            case "SET_MEM_TABLE without fds": f.SendRaw(R.SetMemTable, V, MemTable((0, size, user, 0)), []); break;
            case "SET_MEM_TABLE with 0 regions": f.SendRaw(R.SetMemTable, V, MemTable(), []); break;
            case "SET_MEM_TABLE with a wrong size": f.SendRaw(R.SetMemTable, V, MemTable((0, size, user, 0)).AsSpan(0, 30), [f.Memory.Fd]); break;
            case "SET_MEM_TABLE with overlapping regions":
                f.SendRaw(R.SetMemTable, V, MemTable((0, size, user, 0), (size / 2, size / 2, user + size, 0)), [f.Memory.Fd, f.Memory.Fd]);
                break;
            case "SET_MEM_TABLE with a size that overflows": f.SendRaw(R.SetMemTable, V, MemTable((ulong.MaxValue - 4095, 8192, user, 0)), [f.Memory.Fd]); break;
            case "ADD_MEM_REG overlapping the mapped region": f.SendRaw(R.AddMemReg, V, SingleRegion(4096, 4096, user + 4096), [f.Memory.Fd]); break;
            case "REM_MEM_REG of a region that is not mapped": f.SendRaw(R.RemMemReg, V, SingleRegion(1UL << 40, 4096, 1UL << 41), []); break;
            case "SET_VRING_NUM 1000, not a power of two": f.GetVringBase(1); f.SendRaw(R.SetVringNum, V, State(1, 1000), []); break;
            case "SET_VRING_NUM 0": f.GetVringBase(1); f.SendRaw(R.SetVringNum, V, State(1, 0), []); break;
            case "SET_VRING_NUM 65536": f.GetVringBase(1); f.SendRaw(R.SetVringNum, V, State(1, 65536), []); break;
            case "SET_VRING_NUM on a running ring": f.SendRaw(R.SetVringNum, V, State(1, 256), []); break;
            case "SET_VRING_NUM for ring 200": f.SendRaw(R.SetVringNum, V, State(200, 256), []); break;
            case "SET_VRING_BASE 70000": f.GetVringBase(1); f.SendRaw(R.SetVringBase, V, State(1, 70000), []); break;
            case "SET_VRING_ENABLE 2": f.SendRaw(R.SetVringEnable, V, State(1, 2), []); break;
            case "ring addresses outside memory, then kick":
                f.GetVringBase(1);
                f.SendRaw(R.SetVringAddr, V, VringAddr(1, user + size + 4096, user + size + 8192, user + size + 12288), []);
                WithEventfds(1, fds => f.SendRaw(R.SetVringKick, V, U64(1), fds));
                break;
            case "misaligned used ring, then kick":
                f.GetVringBase(1);
                f.SendRaw(R.SetVringAddr, V, VringAddr(1, user + 0x10000, user + 0x20002, user + 0x30000), []);
                WithEventfds(1, fds => f.SendRaw(R.SetVringKick, V, U64(1), fds));
                break;
            case "SET_PROTOCOL_FEATURES with bits never offered": f.SendRaw(R.SetProtocolFeatures, V, U64(1UL << 60), []); break;
            default: throw new ArgumentOutOfRangeException(nameof(what));
        }
        if (hangUp) f.Dispose();
        else WaitUntil(() => !f.IsBackendConnected(), $"the share kept the connection after: {what}");
        WaitUntil(() => _share.LogCount("protocol violation") > before, $"no log line for: {what}");
        Thread.Sleep(20);   // a second line would follow immediately
        string[] lines;
        lock (_share.Log) lines = _share.Log.Where(l => l.Contains("protocol violation", StringComparison.Ordinal)).Skip(before).ToArray();
        Assert.Single(lines);
        Assert.Contains(reason, lines[0]);

        f.Dispose();
        WaitUntil(() => _share.Host.State == ShareState.Listening, "the share did not listen again");
        _share.Connect();
        _share.AssertServes();
        Assert.Equal(2, _share.Host.ConnectionCount);
        _share.AssertConfined(what);
    }

    [Theory]
    [InlineData("SET_CONFIG", "SET_CONFIG refused")]
    [InlineData("SET_LOG_BASE", "not supported")]
    [InlineData("SET_LOG_FD", "not supported")]
    [InlineData("SET_BACKEND_REQ_FD", "ignored")]
    public void ARefusalTheProtocolAllowsKeepsTheConnection(string what, string reason)
    {
        VhostUserFrontend f = _share.Frontend;
        switch (what)
        {
            case "SET_CONFIG": f.SendRaw(R.SetConfig, V, new byte[12 + 4], []); break;
            case "SET_LOG_BASE": WithEventfds(1, fds => f.SendRaw(R.SetLogBase, V, new byte[16], fds)); break;
            case "SET_LOG_FD": WithEventfds(1, fds => f.SendRaw(R.SetLogFd, V, [], fds)); break;
            case "SET_BACKEND_REQ_FD": WithEventfds(1, fds => f.SendRaw(R.SetBackendReqFd, V, [], fds)); break;
        }
        WaitUntil(() => _share.LogContains(reason), $"no log line for {what}");
        Assert.True(f.IsBackendConnected());
        _share.AssertServes();
        Assert.Equal(1, _share.Host.ConnectionCount);
    }

    private static void WaitUntil(Func<bool> condition, string failure)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            Thread.Sleep(5);
        }
    }
}
