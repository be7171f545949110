using System.Buffers.Binary;
using VirtioFs.Backend.Share;
using VirtioFs.Frontend.Fuse;
using VirtioFs.Frontend.Virtqueue;
using VirtioFs.Tests.Hostile;
using Xunit;
using F = VirtioFs.Frontend.Virtqueue.VirtqDescriptorFlags;

namespace VirtioFs.Tests.Robustness;

/// <summary>
/// Descriptor chains a hostile guest can write, through a real share over its socket: each is dropped (used length 0,
/// one rate-limited log line) or answered with an error, never followed outside guest memory, and the same queue
/// serves the next request. Rings that make no sense at all stop that queue; a new frontend then gets a fresh one.
/// </summary>
public sealed class MalformedChainTests : IDisposable
{
    private const int EINVAL = 22;
    private const ushort NW = F.Next | F.Write, IN = F.Indirect | F.Next;

    private readonly ConfinedShare _share = new(clientTimeout: TimeSpan.FromSeconds(5));

    public void Dispose() => _share.Dispose();

    private VirtqueueDriver Queue => _share.Client.RequestQueue;

    private VirtioFs.Frontend.Memory.GuestRam Memory => _share.Frontend.Memory;

    private byte[] Getattr(uint? lengthOverride = null)
        => FuseClient.BuildRequest(FuseOpcode.Getattr, _share.Client.NextUnique(), 1, new byte[16], lengthOverride);

    /// <summary>Writes the descriptors into reserved slots (next fields as given, or -1 = the following slot), publishes, kicks, waits.</summary>
    private uint Submit(params (ulong Addr, uint Len, ushort Flags, int Next)[] descriptors)
    {
        ushort[] slots = Queue.ReserveDescriptors(descriptors.Length);
        for (int i = 0; i < descriptors.Length; i++)
        {
            var d = descriptors[i];
            ushort next = d.Next switch
            {
                -1 => i + 1 < slots.Length ? slots[i + 1] : (ushort)0,
                >= 1000 => (ushort)d.Next,        // a raw index, possibly out of range
                _ => slots[d.Next],               // another slot of this chain (loops)
            };
            Queue.WriteDescriptor(slots[i], d.Addr, d.Len, d.Flags, next);
        }
        Queue.PublishAvail(slots[0]);
        Queue.ForceKick();
        Assert.True(Queue.WaitUsed(TimeSpan.FromSeconds(5), out ushort head, out uint used), "the share did not return the chain");
        Assert.Equal(slots[0], head);
        Queue.ReturnDescriptors(slots);
        return used;
    }

    private ulong Put(byte[] bytes)
    {
        ulong gpa = Memory.Allocate((ulong)Math.Max(bytes.Length, 1), 64);
        Memory.Write(gpa, bytes);
        return gpa;
    }

    /// <summary>An indirect table in guest memory holding <paramref name="entries"/> (next = index inside the table).</summary>
    private ulong Table(params (ulong Addr, uint Len, ushort Flags, ushort Next)[] entries)
    {
        byte[] table = new byte[16 * entries.Length];
        for (int i = 0; i < entries.Length; i++)
            F.Encode(table.AsSpan(16 * i, 16), entries[i].Addr, entries[i].Len, entries[i].Flags, entries[i].Next);
        return Put(table);
    }

    private long Dropped => _share.Host.GetQueueStatistics()[1].DroppedChains;

    public static TheoryData<string> DroppedChains() => new()
    {
        "outside every region", "crossing the region end", "address + length overflows", "length 4 GiB - 1",
        "loop of two", "loop of one", "next out of range", "readable after writable",
        "indirect table longer than the queue", "indirect inside indirect", "indirect with NEXT", "indirect table of length 0",
        "indirect table length not a multiple of 16", "indirect table outside memory", "indirect table crossing the region end",
        "indirect entry outside memory", "indirect entry next out of table",
    };

    [Theory]
    [MemberData(nameof(DroppedChains))]
    public void ABrokenChainIsDroppedAndLoggedAndTheQueueServesOn(string shape)
    {
        ulong size = Memory.Size;
        ulong request = Put(Getattr());
        ulong reply = Memory.Allocate(4096);
        ushort qsize = Queue.Size;
        uint used = shape switch
        {
            "outside every region" => Submit((size + 0x10000, 56, F.Next, -1), (reply, 4096, F.Write, 0)),
            "crossing the region end" => Submit((request, 56, F.Next, -1), (size - 16, 64, F.Write, 0)),
            "address + length overflows" => Submit((ulong.MaxValue - 8, 56, F.Next, -1), (reply, 4096, F.Write, 0)),
            "length 4 GiB - 1" => Submit((request, uint.MaxValue, F.Next, -1), (reply, 4096, F.Write, 0)),
            "loop of two" => Submit((request, 56, F.Next, 1), (reply, 64, NW, 0)),
            "loop of one" => Submit((request, 56, F.Next, 0)),
            "next out of range" => Submit((request, 56, F.Next, 1000 + qsize)),
            "readable after writable" => Submit((reply, 4096, NW, -1), (request, 56, 0, 0)),
            "indirect table longer than the queue" => Submit((IndirectChainOf(qsize + 8, request), (uint)(16 * (qsize + 8)), F.Indirect, 0)),
            "indirect inside indirect" => Submit((Table((Table((request, 56, 0, 0)), 16, F.Indirect, 0)), 16, F.Indirect, 0)),
            "indirect with NEXT" => Submit((Table((request, 56, 0, 0)), 16, IN, -1), (reply, 4096, F.Write, 0)),
            "indirect table of length 0" => Submit((Table((request, 56, 0, 0)), 0, F.Indirect, 0)),
            "indirect table length not a multiple of 16" => Submit((Table((request, 56, 0, 0), (reply, 4096, F.Write, 0)), 20, F.Indirect, 0)),
            "indirect table outside memory" => Submit((size + 4096, 32, F.Indirect, 0)),
            "indirect table crossing the region end" => Submit((size - 16, 32, F.Indirect, 0)),
            "indirect entry outside memory" => Submit((Table((request, 56, F.Next, 1), (size + 8192, 4096, F.Write, 0)), 32, F.Indirect, 0)),
            "indirect entry next out of table" => Submit((Table((request, 56, F.Next, 5), (reply, 4096, F.Write, 0)), 32, F.Indirect, 0)),
            _ => throw new ArgumentOutOfRangeException(nameof(shape)),
        };
        Assert.Equal(0u, used);
        Assert.Equal(1L, Dropped);
        Assert.Equal(1, _share.LogCount("dropped descriptor chain"));
        _share.AssertServes();
        _share.AssertConfined(shape);
    }

    private ulong IndirectChainOf(int count, ulong buffer)
    {
        var entries = new (ulong, uint, ushort, ushort)[count];
        for (int i = 0; i < count; i++) entries[i] = (buffer, 8, i + 1 < count ? F.Next : (ushort)0, (ushort)(i + 1 < count ? i + 1 : 0));
        return Table(entries);
    }

    [Fact]
    public void ZeroLengthDescriptorsAreSkipped()
    {
        byte[] getattr = Getattr();
        ulong header = Put(getattr[..40]);
        ulong args = Put(getattr[40..]);
        ulong reply = Memory.Allocate(4096);
        uint used = Submit((header, 40, F.Next, -1), (header, 0, F.Next, -1), (args, 16, F.Next, -1), (reply, 0, NW, -1), (reply, 4096, F.Write, 0));
        Assert.Equal(16u + 104u, used);
        Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(Memory.GetSpan(reply + 4, 4)));
        // Nothing but zero-length descriptors: no header, nothing to answer.
        Assert.Equal(0u, Submit((header, 0, F.Next, -1), (reply, 0, F.Write, 0)));
        _share.AssertServes();
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(40u)]          // header only, the 16 argument bytes not counted
    [InlineData(55u)]
    [InlineData(57u)]
    [InlineData(4096u)]
    [InlineData(uint.MaxValue)]
    public void AHeaderLengthThatDisagreesWithTheChainIsEinval(uint claimed)
    {
        FuseRawReply reply = _share.Client.SendRaw(Getattr(claimed), 256, segments: 3);
        Assert.Equal(EINVAL, reply.Errno);
        Assert.Equal(16u, reply.UsedLength);
        _share.AssertServes();
    }

    [Fact]
    public void ReplyBuffersTooSmallGetAnErrorOrNothingAndNeverAnOverrun()
    {
        File.WriteAllBytes(Path.Combine(_share.SharedDir, "f"), new byte[100_000]);
        Assert.Equal(0, _share.Client.Lookup(1, "f", out FuseEntry f));
        Assert.Equal(0, _share.Client.Open(f.NodeId, 0, out FuseOpenOut open));
        var cases = new (string What, byte[] Request, int Room)[]
        {
            ("GETATTR into 0 bytes", Getattr(), 0),
            ("GETATTR into 8 bytes", Getattr(), 8),
            ("GETATTR into 16 bytes", Getattr(), 16),
            ("GETATTR into 100 bytes", Getattr(), 100),
            ("LOOKUP into 17 bytes", new RawArgs().Name("f").Request(FuseOpcode.Lookup, _share.Client.NextUnique(), 1), 17),
            ("READ 64 KiB into 100 bytes", RawArgs.ReadIn(open.Fh, 0, 65536).Request(FuseOpcode.Read, _share.Client.NextUnique(), f.NodeId), 100),
            ("READDIR 4 KiB into 20 bytes", RawArgs.ReadIn(0, 0, 4096).Request(FuseOpcode.Readdir, _share.Client.NextUnique(), 1), 20),
            ("STATFS into 30 bytes", new RawArgs().Request(FuseOpcode.Statfs, _share.Client.NextUnique(), 1), 30),
        };
        foreach (var (what, request, room) in cases)
        {
            // A guard area right behind the writable bytes must stay untouched.
            ulong gpaIn = Put(request);
            ulong gpaOut = Memory.Allocate((ulong)room + 256);
            Memory.GetSpan(gpaOut, (ulong)room + 256).Fill(0xA5);
            uint used = room == 0 ? Submit((gpaIn, (uint)request.Length, 0, 0)) : Submit((gpaIn, (uint)request.Length, F.Next, -1), (gpaOut, (uint)room, F.Write, 0));
            Assert.True(used <= (uint)room, $"{what}: used length {used} exceeds the {room} bytes offered");
            Assert.True(Memory.GetSpan(gpaOut + (ulong)room, 256).IndexOfAnyExcept((byte)0xA5) < 0, $"{what}: the share wrote past the buffer");
            if (used > 0)
            {
                Assert.True(used >= 16, $"{what}: {used} bytes is not even a header");
                Assert.Equal(used, BinaryPrimitives.ReadUInt32LittleEndian(Memory.GetSpan(gpaOut, 4)));
            }
        }
        _share.AssertServes();
    }

    [Theory]
    [InlineData("head index beyond the queue")]
    [InlineData("avail index far ahead")]
    public void ARingThatMakesNoSenseStopsThatQueueUntilANewFrontend(string shape)
    {
        if (shape == "head index beyond the queue")
        {
            Queue.WriteAvailSlot((ushort)(Queue.AvailIndex & (Queue.Size - 1)), 0xFFFF);
            Queue.WriteAvailIndex(unchecked((ushort)(Queue.AvailIndex + 1)));
        }
        else
        {
            Queue.WriteAvailIndex(unchecked((ushort)(Queue.AvailIndex + Queue.Size + 10)));
        }
        Queue.ForceKick();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!_share.LogContains("the queue stops until the front-end resets it") && DateTime.UtcNow < deadline) Thread.Sleep(10);
        Assert.True(_share.LogContains("the queue stops until the front-end resets it"), string.Join('\n', _share.Log));
        Assert.Equal(0L, _share.Host.InternalErrors);

        _share.Frontend.Dispose();
        WaitFor(ShareState.Listening);
        _share.Connect();
        _share.AssertServes();
        _share.AssertConfined();
    }

    private void WaitFor(ShareState state)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (_share.Host.State != state)
        {
            Assert.True(DateTime.UtcNow < deadline, $"share stayed {_share.Host.State}, expected {state}");
            Thread.Sleep(5);
        }
    }
}
