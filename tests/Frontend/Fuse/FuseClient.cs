using System.Buffers.Binary;
using System.Text;
using VirtioFs.Frontend.Memory;
using VirtioFs.Frontend.Virtqueue;

namespace VirtioFs.Frontend.Fuse;

/// <summary>
/// Typed FUSE over a virtio-fs request queue, encoding every request itself (FUSE 7.36, as Linux 6.1 sends it). Each
/// operation returns the errno (0 on success, positive otherwise) and decoded outputs. FORGET and BATCH_FORGET go to
/// the hiprio queue and get no reply. Synchronous calls use one buffer pair; Submit*/TryReap keep up to
/// <see cref="FuseClientOptions.MaxInFlight"/> requests in flight for benchmarks, reusing guest buffers. Not thread-safe.
/// </summary>
public sealed partial class FuseClient
{
    private const int Page = 4096;

    private readonly VhostUserFrontend _frontend;
    private readonly GuestRam _ram;
    private readonly VirtqueueDriver _queue;
    private readonly VirtqueueDriver _hiprio;
    private readonly FuseClientOptions _options;
    private readonly bool _indirect;
    private readonly List<FuseSlot> _slots = [];
    private readonly Stack<FuseSlot> _freeSlots = new();
    private readonly FuseSlot?[] _slotByHead;
    private readonly byte[] _scratch;
    private ulong _nextUnique = 2;
    private int _pipelined;
    private bool _kickPending;

    // FORGET buffers on the hiprio queue, one per descriptor head, reused.
    private readonly ulong[] _forgetBuffer;
    private readonly int[] _forgetCapacity;

    public FuseClient(VhostUserFrontend frontend, int queueIndex = 1, FuseClientOptions? options = null)
    {
        if (queueIndex < 1) throw new ArgumentOutOfRangeException(nameof(queueIndex), "request queues start at 1; 0 is hiprio");
        _frontend = frontend;
        _ram = frontend.Memory;
        _queue = frontend.Queue(queueIndex);
        _hiprio = frontend.Queue(0);
        _options = options ?? new FuseClientOptions();
        _indirect = _options.Indirect ?? frontend.IndirectNegotiated;
        _slotByHead = new FuseSlot?[_queue.Size];
        _scratch = new byte[FuseSlot.ReplyHeaderArea + _options.MaxPayload];
        _forgetBuffer = new ulong[_hiprio.Size];
        _forgetCapacity = new int[_hiprio.Size];
    }

    public FuseClientOptions Options => _options;
    public VirtqueueDriver RequestQueue => _queue;
    public VirtqueueDriver HiprioQueue => _hiprio;
    /// <summary>The last INIT reply, once <see cref="Init"/> succeeded.</summary>
    public FuseInitReply? Session { get; private set; }
    public int InFlight => _pipelined;

    // ---- request building -------------------------------------------------------------------------------------------

    private FuseSlot AcquireSlot()
    {
        if (_freeSlots.TryPop(out var slot)) return slot;
        if (_slots.Count >= Math.Max(1, _options.MaxInFlight))
            throw new InvalidOperationException($"{_slots.Count} FUSE requests already in flight (MaxInFlight); reap first");
        ulong inGpa = _ram.Allocate((ulong)(FuseSlot.HeaderArea + _options.MaxPayload), Page);
        ulong outGpa = _ram.Allocate((ulong)(FuseSlot.ReplyHeaderArea + _options.MaxPayload), Page);
        int descriptors = 16 + 2 * (_options.MaxPayload / Page + 2);
        slot = new FuseSlot(_slots.Count, inGpa, outGpa, descriptors);
        _slots.Add(slot);
        return slot;
    }

    private FuseSlot Begin(FuseOpcode opcode, ulong nodeId)
    {
        var s = AcquireSlot();
        s.Busy = true;
        s.NoReply = false;
        s.Opcode = opcode;
        s.Unique = _nextUnique;
        _nextUnique += 2; // the low bit is reserved for INTERRUPT, as in the kernel
        s.ArgCount = 0;
        s.InLength = FuseConstants.InHeaderSize;
        s.DataLength = 0;
        s.DataOffset = 0;
        s.ReplyArgCount = 0;
        s.ReplyArgsEnd = FuseConstants.OutHeaderSize;
        s.ReplyDataCapacity = 0;
        Span<byte> h = _ram.GetSpan(s.InGpa, FuseConstants.InHeaderSize);
        h.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], (uint)opcode);
        BinaryPrimitives.WriteUInt64LittleEndian(h[8..], s.Unique);
        BinaryPrimitives.WriteUInt64LittleEndian(h[16..], nodeId);
        BinaryPrimitives.WriteUInt32LittleEndian(h[24..], _options.Uid);
        BinaryPrimitives.WriteUInt32LittleEndian(h[28..], _options.Gid);
        BinaryPrimitives.WriteUInt32LittleEndian(h[32..], _options.Pid);
        return s;
    }

    /// <summary>Appends a zeroed argument of <paramref name="size"/> bytes and returns it for filling.</summary>
    private Span<byte> Arg(FuseSlot s, int size)
    {
        if (s.InLength + size > FuseSlot.HeaderArea) throw new ArgumentException($"FUSE arguments exceed {FuseSlot.HeaderArea} bytes");
        var span = _ram.GetSpan(s.InGpa + (ulong)s.InLength, (ulong)size);
        span.Clear();
        s.InLength += size;
        s.ArgEnds[s.ArgCount++] = s.InLength;
        return span;
    }

    /// <summary>Appends a NUL-terminated UTF-8 name as its own argument (names may contain anything, even '\0' or '/').</summary>
    private void ArgName(FuseSlot s, string name)
    {
        int n = Encoding.UTF8.GetByteCount(name);
        var span = Arg(s, n + 1);
        Encoding.UTF8.GetBytes(name, span);
        span[n] = 0;
    }

    private void Data(FuseSlot s, ReadOnlySpan<byte> data)
    {
        if (data.Length > _options.MaxPayload) throw new ArgumentException($"{data.Length} bytes exceed MaxPayload {_options.MaxPayload}");
        s.DataOffset = _options.Shape == RequestShape.Linux ? FuseSlot.HeaderArea : s.InLength;
        s.DataLength = data.Length;
        data.CopyTo(_ram.GetSpan(s.InGpa + (ulong)s.DataOffset, (ulong)data.Length));
    }

    private void Reply(FuseSlot s, int arg0 = 0, int arg1 = 0, int dataCapacity = 0)
    {
        if (arg0 > 0) { s.ReplyArgSizes[s.ReplyArgCount++] = arg0; s.ReplyArgsEnd += arg0; }
        if (arg1 > 0) { s.ReplyArgSizes[s.ReplyArgCount++] = arg1; s.ReplyArgsEnd += arg1; }
        if (dataCapacity > _options.MaxPayload) throw new ArgumentException($"{dataCapacity} bytes exceed MaxPayload {_options.MaxPayload}");
        s.ReplyDataCapacity = dataCapacity;
        s.ReplyDataOffset = _options.Shape == RequestShape.Linux ? FuseSlot.ReplyHeaderArea : s.ReplyArgsEnd;
    }

    /// <summary>Writes in_header.len, lays out descriptors for the shape and publishes the chain (no kick).</summary>
    private void Publish(FuseSlot s)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_ram.GetSpan(s.InGpa, 4), (uint)(s.InLength + s.DataLength));
        int n = 0;
        var d = s.Descriptors;
        if (_options.Shape == RequestShape.Compact)
        {
            d[n++] = (s.InGpa, (uint)(s.InLength + s.DataLength), false);
            d[n++] = (s.OutGpa, (uint)(s.ReplyArgsEnd + s.ReplyDataCapacity), true);
        }
        else
        {
            d[n++] = (s.InGpa, FuseConstants.InHeaderSize, false);
            int start = FuseConstants.InHeaderSize;
            for (int i = 0; i < s.ArgCount; i++)
            {
                d[n++] = (s.InGpa + (ulong)start, (uint)(s.ArgEnds[i] - start), false);
                start = s.ArgEnds[i];
            }
            n = AddPages(d, n, s.InGpa + (ulong)s.DataOffset, s.DataLength, writable: false);
            d[n++] = (s.OutGpa, FuseConstants.OutHeaderSize, true);
            int rstart = FuseConstants.OutHeaderSize;
            for (int i = 0; i < s.ReplyArgCount; i++)
            {
                d[n++] = (s.OutGpa + (ulong)rstart, (uint)s.ReplyArgSizes[i], true);
                rstart += s.ReplyArgSizes[i];
            }
            n = AddPages(d, n, s.OutGpa + (ulong)s.ReplyDataOffset, s.ReplyDataCapacity, writable: true);
        }
        if (!_queue.TryAddChain(d.AsSpan(0, n), _indirect && n > 1, out ushort head))
            throw new InvalidOperationException($"queue {_queue.Index}: no room for a {n}-descriptor chain ({_queue.FreeDescriptors} free)");
        s.Head = head;
        _slotByHead[head] = s;
    }

    private static int AddPages((ulong, uint, bool)[] d, int n, ulong gpa, int length, bool writable)
    {
        for (int off = 0; off < length; off += Page)
            d[n++] = (gpa + (ulong)off, (uint)Math.Min(Page, length - off), writable);
        return n;
    }

    // ---- completion -------------------------------------------------------------------------------------------------

    /// <summary>Publishes, kicks and waits for this request's reply; returns errno and leaves the reply in the slot.</summary>
    private int Call(FuseSlot s, out int bodyLength)
    {
        if (_pipelined > 0) throw new InvalidOperationException("synchronous FUSE call while pipelined requests are in flight; reap them first");
        Publish(s);
        _queue.Kick();
        if (!_queue.WaitUsed(_options.Timeout, out ushort head, out uint used))
        {
            throw new TimeoutException(
                $"FUSE {s.Opcode} (unique {s.Unique}) on queue {_queue.Index}: no reply within {_options.Timeout.TotalSeconds:0.#} s"
                + (_frontend.IsBackendConnected() ? "" : "; the backend closed the vhost-user socket"));
        }
        var done = SlotOf(head);
        if (!ReferenceEquals(done, s)) throw new FuseProtocolException($"queue {_queue.Index}: completion for head {head}, expected {s.Head}");
        return Validate(s, used, out bodyLength);
    }

    private FuseSlot SlotOf(ushort head)
    {
        var s = _slotByHead[head] ?? throw new FuseProtocolException($"queue {_queue.Index}: used head {head} carries no request of ours");
        _slotByHead[head] = null;
        return s;
    }

    private int Validate(FuseSlot s, uint used, out int bodyLength)
    {
        if (used < FuseConstants.OutHeaderSize)
            throw new FuseProtocolException($"{What(s)}: used length {used} is shorter than fuse_out_header");
        if (used > (uint)s.ReplyCapacity)
            throw new FuseProtocolException($"{What(s)}: used length {used} exceeds the {s.ReplyCapacity} writable bytes offered");
        var h = _ram.GetSpan(s.OutGpa, FuseConstants.OutHeaderSize);
        uint len = BinaryPrimitives.ReadUInt32LittleEndian(h);
        int error = BinaryPrimitives.ReadInt32LittleEndian(h[4..]);
        ulong unique = BinaryPrimitives.ReadUInt64LittleEndian(h[8..]);
        if (unique != s.Unique) throw new FuseProtocolException($"{What(s)}: reply carries unique {unique}");
        if (len != used) throw new FuseProtocolException($"{What(s)}: out_header.len {len} but used length {used}");
        if (error > 0 || error < -4095) throw new FuseProtocolException($"{What(s)}: out_header.error {error} is not 0 or -errno");
        bodyLength = (int)len - FuseConstants.OutHeaderSize;
        return -error;
    }

    // Built only on failure: Validate runs for every request of a benchmark.
    private static string What(FuseSlot s) => $"FUSE {s.Opcode} (unique {s.Unique})";

    private void ReleaseSlot(FuseSlot s)
    {
        s.Busy = false;
        _freeSlots.Push(s);
    }

    /// <summary>Copies reply stream bytes [offset, offset+dest.Length) (offset counted after out_header) out of guest RAM.</summary>
    private void CopyReply(FuseSlot s, int offset, Span<byte> destination)
    {
        int stream = FuseConstants.OutHeaderSize + offset;
        int copied = 0;
        while (copied < destination.Length)
        {
            int pos = stream + copied;
            int mem = s.ReplyMemoryOffset(pos);
            int run = pos < s.ReplyArgsEnd ? s.ReplyArgsEnd - pos : destination.Length - copied;
            run = Math.Min(run, destination.Length - copied);
            _ram.GetSpan(s.OutGpa + (ulong)mem, (ulong)run).CopyTo(destination.Slice(copied, run));
            copied += run;
        }
    }

    private ReadOnlySpan<byte> ReplyBody(FuseSlot s, int bodyLength)
    {
        var span = _scratch.AsSpan(0, bodyLength);
        CopyReply(s, 0, span);
        return span;
    }

    /// <summary>Runs a request with a fixed-size reply argument and decodes it with <paramref name="decode"/> on success.</summary>
    private int Run<T>(FuseSlot s, int replySize, Func<ReadOnlySpan<byte>, T> decode, out T result)
    {
        Reply(s, replySize);
        try
        {
            int errno = Call(s, out int body);
            if (errno != 0) { result = default!; return errno; }
            if (body < replySize) throw new FuseProtocolException($"FUSE {s.Opcode}: {body}-byte reply, expected {replySize}");
            result = decode(ReplyBody(s, replySize));
            return 0;
        }
        finally
        {
            ReleaseSlot(s);
        }
    }

    private int RunNoReply(FuseSlot s)
    {
        Reply(s);
        try
        {
            int errno = Call(s, out int body);
            if (errno == 0 && body != 0) throw new FuseProtocolException($"FUSE {s.Opcode}: {body} unexpected reply bytes");
            return errno;
        }
        finally
        {
            ReleaseSlot(s);
        }
    }
}
