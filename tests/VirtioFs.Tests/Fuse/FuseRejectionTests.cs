using System.Collections.Concurrent;
using System.Text;
using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Memory;
using Xunit;

namespace VirtioFs.Tests.Fuse;

/// <summary>
/// The FUSE layer reports every request it refuses as malformed or hostile, once, with a constant reason naming what
/// was wrong; ordinary errnos (ENOENT, EEXIST, ENOTEMPTY, ENOSYS) are not reported; bugs are reported as internal
/// errors with the exception.
/// </summary>
public sealed class FuseRejectionTests : IDisposable
{
    private readonly RecordingLog _log = new();
    private readonly FuseHarness _h;

    public FuseRejectionTests() => _h = new FuseHarness(log: _log);

    public void Dispose() => _h.Dispose();

    private sealed class RecordingLog : IFuseLog
    {
        public readonly ConcurrentQueue<(uint Opcode, ulong Unique, string Reason)> Rejections = new();
        public readonly ConcurrentQueue<(uint Opcode, Exception Exception)> Errors = new();

        public void Rejected(uint opcode, ulong unique, string reason) => Rejections.Enqueue((opcode, unique, reason));

        public void InternalError(uint opcode, Exception exception) => Errors.Enqueue((opcode, exception));
    }

    private void AssertRejectedOnce(FuseOpcode opcode, string reason, Func<FuseReply> send, int errno = 22)
    {
        _log.Rejections.Clear();
        FuseReply reply = send();
        if (reply.UsedLength > 0) Assert.Equal(errno, reply.Errno);
        (uint Opcode, ulong Unique, string Reason)[] logged = _log.Rejections.ToArray();
        Assert.True(logged.Length == 1, $"{opcode}: expected one rejection '{reason}', got {logged.Length}: {string.Join("; ", logged.Select(l => l.Reason))}");
        Assert.Equal((uint)opcode, logged[0].Opcode);
        Assert.Equal(reason, logged[0].Reason);
        if (reply.UsedLength > 0) Assert.Equal(reply.Header.Unique, logged[0].Unique);
    }

    public static TheoryData<string, string> Names => new()
    {
        { "a/b", FuseRejection.NameWithSlash },
        { "../../etc/x", FuseRejection.NameWithSlash },
        { "..", FuseRejection.NameIsDots },
        { ".", FuseRejection.NameIsDots },
        { "", FuseRejection.NameEmpty },
        { new string('n', 256), FuseRejection.NameTooLong },
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void InvalidNamesAreLoggedWithWhatIsWrong(string name, string reason)
    {
        int errno = reason == FuseRejection.NameTooLong ? 36 : 22;
        AssertRejectedOnce(FuseOpcode.Mkdir, reason, () => _h.Mkdir(1, name), errno);
        AssertRejectedOnce(FuseOpcode.Unlink, reason, () => _h.Send(FuseOpcode.Unlink, 1, new ArgsBuilder().Name(name)), errno);
        AssertRejectedOnce(FuseOpcode.Rename, reason,
            () => _h.Send(FuseOpcode.Rename, 1, new ArgsBuilder().Add(new FuseRenameIn { NewDir = 1 }).Name("x").Name(name)), errno);
    }

    [Fact]
    public void AnUnterminatedNameIsLogged()
        => AssertRejectedOnce(FuseOpcode.Lookup, FuseRejection.NameUnterminated, () => _h.Send(FuseOpcode.Lookup, 1, Encoding.ASCII.GetBytes("abc")));

    [Fact]
    public void FramingErrorsAreLogged()
    {
        AssertRejectedOnce(FuseOpcode.GetAttr, FuseRejection.LengthMismatch, () => _h.Send(FuseOpcode.GetAttr, 1, new byte[16], lengthOverride: 4096));
        AssertRejectedOnce(FuseOpcode.GetAttr, FuseRejection.ExtensionTooLong, () => _h.Send(FuseOpcode.GetAttr, 1, new byte[16], extLength: 3));
        AssertRejectedOnce(FuseOpcode.Forget, FuseRejection.LengthMismatch, () => _h.Send(FuseOpcode.Forget, 1, new byte[8], lengthOverride: 4096));
        AssertRejectedOnce(FuseOpcode.GetAttr, FuseRejection.NoRoomForHeader,
            () => _h.Send(FuseOpcode.GetAttr, 1, new ArgsBuilder().Add(new FuseGetAttrIn()), replySegments: [8]));
        AssertRejectedOnce(FuseOpcode.GetAttr, FuseRejection.ReplyTooSmall,
            () => _h.Send(FuseOpcode.GetAttr, 1, new ArgsBuilder().Add(new FuseGetAttrIn()), replySegments: [32]));
        _log.Rejections.Clear();
        Assert.Equal(0, _h.SendRaw(new byte[20], null, [4096]).UsedLength);
        Assert.Equal(FuseRejection.HeaderTruncated, Assert.Single(_log.Rejections).Reason);
    }

    [Theory]
    [InlineData(FuseOpcode.GetAttr, 8)]
    [InlineData(FuseOpcode.SetAttr, 87)]
    [InlineData(FuseOpcode.Mkdir, 4)]
    [InlineData(FuseOpcode.Open, 4)]
    [InlineData(FuseOpcode.Read, 20)]
    [InlineData(FuseOpcode.Write, 20)]
    [InlineData(FuseOpcode.GetLk, 40)]
    [InlineData(FuseOpcode.Init, 8)]
    public void TruncatedArgumentsAreLogged(FuseOpcode opcode, int length)
        => AssertRejectedOnce(opcode, FuseRejection.TruncatedArguments, () => _h.Send(opcode, 1, new byte[length]));

    [Fact]
    public void OversizedTransfersAreLogged()
    {
        (ulong node, ulong fh) = _h.CreateOk(1, "f");
        AssertRejectedOnce(FuseOpcode.Read, FuseRejection.ReadTooLarge,
            () => _h.Send(FuseOpcode.Read, node, new ArgsBuilder().Add(new FuseReadIn { Fh = fh, Size = 64u << 20 })));
        AssertRejectedOnce(FuseOpcode.Write, FuseRejection.WriteSizeMismatch,
            () => _h.Send(FuseOpcode.Write, node, new ArgsBuilder().Add(new FuseWriteIn { Fh = fh, Size = 100 }).Raw(new byte[10])));
        AssertRejectedOnce(FuseOpcode.SetLk, FuseRejection.InvalidLock,
            () => _h.Send(FuseOpcode.SetLk, node, new ArgsBuilder().Add(new FuseLkIn { Fh = fh, Lk = new FuseFileLock { Start = 10, End = 5, Type = 1 } })));
    }

    [Fact]
    public void ForgedNodeIdsAndHandlesAreLogged()
    {
        AssertRejectedOnce(FuseOpcode.GetAttr, FuseRejection.UnknownId, () => _h.GetAttr(0xDEAD_BEEF), errno: 9);
        AssertRejectedOnce(FuseOpcode.Read, FuseRejection.UnknownId,
            () => _h.Send(FuseOpcode.Read, 1, new ArgsBuilder().Add(new FuseReadIn { Fh = 0x1234_0000_0007, Size = 16 })), errno: 9);
        AssertRejectedOnce(FuseOpcode.Release, FuseRejection.UnknownId, () => _h.Release(1, 42), errno: 9);
    }

    [Fact]
    public void OrdinaryErrnosAreNotLogged()
    {
        Directory.CreateDirectory(Path.Combine(_h.Share, "full", "inside"));
        _log.Rejections.Clear();
        Assert.Equal(2, _h.Lookup(1, "missing").Errno);
        Assert.Equal(17, _h.Mkdir(1, "full").Errno);
        Assert.Equal(39, _h.Send(FuseOpcode.Rmdir, 1, new ArgsBuilder().Name("full")).Errno);
        Assert.Equal(38, _h.Send(FuseOpcode.Ioctl, 1, new byte[32]).Errno);
        Assert.Equal(38, _h.Send((FuseOpcode)9999, 1, new byte[8]).Errno);
        Assert.Equal(0, _h.Lookup(1, "..").Errno);
        Assert.Empty(_log.Rejections);
        Assert.Empty(_log.Errors);
    }

    /// <summary>A file system that throws: the request is answered EIO, counted, and logged with its exception.</summary>
    [Fact]
    public void InternalErrorsAreLoggedWithTheException()
    {
        var log = new RecordingLog();
        var server = new FuseServer(new ThrowingFileSystem(), new FuseServerOptions(), log);
        using var worker = new FuseWorker();
        using var h = new FuseHarness();
        Assert.Equal(0, Send(server, worker, h.BuildRequest(FuseOpcode.Init, 0, new ArgsBuilder().Add(new FuseInitIn { Major = 7, Minor = 38 })), out _));
        Assert.Equal(5, Send(server, worker, h.BuildRequest(FuseOpcode.GetAttr, 1, new ArgsBuilder().Add(new FuseGetAttrIn())), out int used));
        Assert.True(used > 0);
        (uint opcode, Exception exception) = Assert.Single(log.Errors);
        Assert.Equal((uint)FuseOpcode.GetAttr, opcode);
        Assert.IsType<InvalidOperationException>(exception);
        Assert.Equal(1, server.InternalErrors);
        Assert.Empty(log.Rejections);
    }

    private sealed class ThrowingFileSystem : IFileSystem
    {
        public int GetAttr(in FuseContext context, ulong nodeId, ulong fh, bool useHandle, out FuseAttrOut attr)
            => throw new InvalidOperationException("a bug");
    }

    private static unsafe int Send(FuseServer server, FuseWorker worker, byte[] request, out int used)
    {
        var requestList = new SegmentList(4);
        var replyList = new SegmentList(4);
        byte* reply = stackalloc byte[4096];
        fixed (byte* r = request)
        {
            requestList.TryAdd(r, (uint)request.Length);
            replyList.TryAdd(reply, 4096);
            used = server.HandleRequest(worker, requestList, replyList);
        }
        return used >= 16 ? -*(int*)(reply + 4) : -1;
    }
}
