using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Memory;
using VirtioFs.Backend.Passthrough;
using Xunit;

namespace VirtioFs.Tests.Fuse;

/// <summary>
/// A passthrough file system on a temp directory behind a FuseServer, driven with raw requests built in native
/// memory and split across several segments, like a virtqueue chain. The share lives at Root/share; Root/outside
/// is a sibling that must stay empty (nothing may escape the share).
/// </summary>
internal sealed unsafe class FuseHarness : IDisposable
{
    private const byte Sentinel = 0xCC;
    private ulong _unique = 100;

    public FuseHarness(Func<string, PassthroughOptions>? options = null, bool init = true, IFuseLog? log = null)
    {
        Root = Directory.CreateTempSubdirectory("vfs-fuse-").FullName;
        Share = Path.Combine(Root, "share");
        Outside = Path.Combine(Root, "outside");
        Directory.CreateDirectory(Share);
        Directory.CreateDirectory(Outside);
        FileSystem = new PassthroughFileSystem(options?.Invoke(Share) ?? new PassthroughOptions { SharedDirectory = Share });
        Server = new FuseServer(FileSystem, new FuseServerOptions(), log);
        Worker = new FuseWorker();
        try
        {
            if (init) Assert.Equal(0, Init().Errno);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Root { get; }
    public string Share { get; }
    public string Outside { get; }
    public PassthroughFileSystem FileSystem { get; }
    public FuseServer Server { get; }
    public FuseWorker Worker { get; }

    public const int DefaultReplySize = (1 << 20) + 4096;

    /// <summary>
    /// Sends one request. <paramref name="requestSplits"/> cuts the request bytes at those offsets into separate
    /// native allocations; <paramref name="replySegments"/> gives the sizes of the reply segments.
    /// </summary>
    public FuseReply Send(FuseOpcode opcode, ulong nodeId, byte[] args, int[]? requestSplits = null, int[]? replySegments = null,
        uint? lengthOverride = null, ushort extLength = 0, uint uid = 0, uint gid = 0, byte[]? rawRequest = null, FuseWorker? worker = null)
    {
        byte[] request = rawRequest ?? BuildRequest(opcode, nodeId, args, lengthOverride, extLength, uid, gid);
        return SendRaw(request, requestSplits, replySegments ?? new[] { DefaultReplySize }, worker);
    }

    public byte[] BuildRequest(FuseOpcode opcode, ulong nodeId, byte[] args, uint? lengthOverride = null, ushort extLength = 0, uint uid = 0, uint gid = 0)
    {
        var header = new FuseInHeader
        {
            // Interlocked: several test threads may build requests at once.
            Len = lengthOverride ?? (uint)(40 + args.Length),
            Opcode = (uint)opcode,
            Unique = Interlocked.Increment(ref _unique),
            NodeId = nodeId,
            Uid = uid,
            Gid = gid,
            Pid = 4242,
            TotalExtLen = extLength,
        };
        var request = new byte[40 + args.Length];
        Unsafe.WriteUnaligned(ref request[0], header);
        args.CopyTo(request, 40);
        return request;
    }

    public FuseReply SendRaw(byte[] request, int[]? requestSplits, int[] replySegments, FuseWorker? worker = null)
    {
        var requestList = new SegmentList(64);
        var replyList = new SegmentList(64);
        var allocations = new List<nint>();
        try
        {
            int start = 0;
            foreach (int end in (requestSplits ?? Array.Empty<int>()).Append(request.Length))
            {
                int length = end - start;
                if (length <= 0) continue;
                byte* memory = (byte*)NativeMemory.Alloc((nuint)length);
                allocations.Add((nint)memory);
                request.AsSpan(start, length).CopyTo(new Span<byte>(memory, length));
                Assert.True(requestList.TryAdd(memory, (uint)length));
                start = end;
            }
            foreach (int size in replySegments)
            {
                byte* memory = (byte*)NativeMemory.Alloc((nuint)Math.Max(size, 1));
                allocations.Add((nint)memory);
                new Span<byte>(memory, size).Fill(Sentinel);
                Assert.True(replyList.TryAdd(memory, (uint)size));
            }

            int used = Server.HandleRequest(worker ?? Worker, requestList, replyList);
            Assert.Null(Server.LastInternalError);
            if (used == FuseServer.DeferredReply)
            {
                // Answered later through the worker's IFuseDeferredReplies; nothing may be written here meanwhile.
                foreach (IoSegment segment in replyList.AsSpan()) Assert.True(segment.AsSpan().IndexOfAnyExcept(Sentinel) < 0);
                return new FuseReply(used, Array.Empty<byte>());
            }
            Assert.InRange(used, 0, (long)replyList.TotalLength);

            // Collect the used bytes, and check that nothing past them was written.
            var bytes = new byte[used];
            int copied = 0;
            foreach (IoSegment segment in replyList.AsSpan())
            {
                Span<byte> span = segment.AsSpan();
                int take = Math.Min(span.Length, used - copied);
                span[..take].CopyTo(bytes.AsSpan(copied));
                Assert.True(span[take..].IndexOfAnyExcept(Sentinel) < 0, "the server wrote past the used length");
                copied += take;
            }
            var reply = new FuseReply(used, bytes);
            if (used > 0)
            {
                Assert.Equal((uint)used, reply.Header.Len);
                Assert.Equal(Unsafe.ReadUnaligned<FuseInHeader>(ref request[0]).Unique, reply.Header.Unique);
            }
            return reply;
        }
        finally
        {
            foreach (nint memory in allocations) NativeMemory.Free((void*)memory);
        }
    }

    public FuseReply Init(uint major = 7, uint minor = 38, FuseInitFlags flags = (FuseInitFlags)0xFFFF_FFFF_FFFF_FFFF)
    {
        var init = new FuseInitIn
        {
            Major = major,
            Minor = minor,
            MaxReadahead = 128 * 1024,
            Flags = unchecked((uint)flags),
            Flags2 = (uint)((ulong)flags >> 32),
        };
        return Send(FuseOpcode.Init, 0, new ArgsBuilder().Add(init));
    }

    /// <summary>GETATTR of the root must keep working after any hostile request.</summary>
    public void AssertHealthy()
    {
        FuseReply reply = Send(FuseOpcode.GetAttr, 1, new ArgsBuilder().Add(new FuseGetAttrIn()));
        Assert.Equal(0, reply.Errno);
        Assert.Equal(0x4000u, reply.Read<FuseAttrOut>().Attr.Mode & 0xF000);
        Assert.Equal(0, Server.InternalErrors);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Outside));
    }

    public FuseReply Lookup(ulong parent, string name) => Send(FuseOpcode.Lookup, parent, new ArgsBuilder().Name(name));

    public ulong LookupId(ulong parent, string name)
    {
        FuseReply reply = Lookup(parent, name);
        Assert.Equal(0, reply.Errno);
        return reply.Read<FuseEntryOut>().NodeId;
    }

    public FuseReply Mkdir(ulong parent, string name, uint mode = 0x1ED /* 0755 */)
        => Send(FuseOpcode.Mkdir, parent, new ArgsBuilder().Add(new FuseMkdirIn { Mode = mode }).Name(name));

    public FuseReply Create(ulong parent, string name, uint flags = 2 /* O_RDWR */, uint mode = 0x81A4 /* S_IFREG|0644 */)
        => Send(FuseOpcode.Create, parent, new ArgsBuilder().Add(new FuseCreateIn { Flags = flags, Mode = mode }).Name(name));

    /// <summary>CREATE that must succeed: (node id, fh).</summary>
    public (ulong NodeId, ulong Fh) CreateOk(ulong parent, string name, uint flags = 2)
    {
        FuseReply reply = Create(parent, name, flags);
        Assert.Equal(0, reply.Errno);
        return (reply.Read<FuseEntryOut>().NodeId, reply.Read<FuseOpenOut>(Unsafe.SizeOf<FuseEntryOut>()).Fh);
    }

    public FuseReply Open(ulong nodeId, uint flags = 2) => Send(FuseOpcode.Open, nodeId, new ArgsBuilder().Add(new FuseOpenIn { Flags = flags }));

    public FuseReply Write(ulong nodeId, ulong fh, ulong offset, byte[] data, int[]? splits = null)
        => Send(FuseOpcode.Write, nodeId,
            new ArgsBuilder().Add(new FuseWriteIn { Fh = fh, Offset = offset, Size = (uint)data.Length }).Raw(data), splits);

    public FuseReply Read(ulong nodeId, ulong fh, ulong offset, uint size, int[]? replySegments = null)
        => Send(FuseOpcode.Read, nodeId, new ArgsBuilder().Add(new FuseReadIn { Fh = fh, Offset = offset, Size = size }), replySegments: replySegments);

    public FuseReply Release(ulong nodeId, ulong fh, FuseOpcode opcode = FuseOpcode.Release)
        => Send(opcode, nodeId, new ArgsBuilder().Add(new FuseReleaseIn { Fh = fh }));

    public FuseReply GetAttr(ulong nodeId) => Send(FuseOpcode.GetAttr, nodeId, new ArgsBuilder().Add(new FuseGetAttrIn()));

    public void Dispose()
    {
        Worker.Dispose();
        FileSystem.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
