using System.Buffers.Binary;
using VirtioFs.Frontend.Fuse;
using VirtioFs.Frontend.Memory;

namespace VirtioFs.Bench.Driver;

/// <summary>
/// One request buffer pair in guest RAM, reused for every request of one in-flight operation, laid out as Linux's
/// virtio_fs lays a request out: in_header and each argument in its own device-readable descriptor, then the write
/// payload page by page; out_header and each reply argument in its own device-writable descriptor, then the reply
/// data page by page. Encoding writes straight into guest RAM: nothing is allocated per request.
/// </summary>
internal sealed class RequestSlot
{
    public const int Page = 4096;
    public const int HeaderArea = Page;

    private readonly GuestRam _ram;
    private readonly (ulong addr, uint len, bool writable)[] _descriptors;
    private int _count;
    private int _inLength;
    private int _dataLength;
    private int _replyArgsEnd;

    public RequestSlot(GuestRam ram, int index, int dataCapacity, int replyCapacity)
    {
        _ram = ram;
        Index = index;
        DataCapacity = dataCapacity;
        ReplyCapacity = replyCapacity;
        InGpa = ram.Allocate((ulong)(HeaderArea + dataCapacity), Page);
        OutGpa = ram.Allocate((ulong)(HeaderArea + replyCapacity), Page);
        _descriptors = new (ulong, uint, bool)[8 + (dataCapacity + replyCapacity) / Page + 2];
    }

    public int Index { get; }
    public ulong InGpa { get; }
    public ulong OutGpa { get; }
    public int DataCapacity { get; }
    public int ReplyCapacity { get; }

    public ulong Unique;
    public FuseOpcode Opcode;
    public bool Busy;

    /// <summary>Starts a request: writes in_header (len is filled in by <see cref="Finish"/>).</summary>
    public void Begin(FuseOpcode opcode, ulong nodeId, ulong unique)
    {
        Opcode = opcode;
        Unique = unique;
        _count = 0;
        _dataLength = 0;
        _replyArgsEnd = FuseConstants.OutHeaderSize;
        Span<byte> h = _ram.GetSpan(InGpa, FuseConstants.InHeaderSize);
        h.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], (uint)opcode);
        BinaryPrimitives.WriteUInt64LittleEndian(h[8..], unique);
        BinaryPrimitives.WriteUInt64LittleEndian(h[16..], nodeId);
        BinaryPrimitives.WriteUInt32LittleEndian(h[32..], 1); // pid
        _descriptors[_count++] = (InGpa, FuseConstants.InHeaderSize, false);
        _inLength = FuseConstants.InHeaderSize;
    }

    /// <summary>Appends a zeroed argument in its own descriptor and returns it for filling.</summary>
    public Span<byte> Arg(int size)
    {
        if (_inLength + size > HeaderArea) throw new ArgumentException("arguments exceed the header area");
        Span<byte> span = _ram.GetSpan(InGpa + (ulong)_inLength, (ulong)size);
        span.Clear();
        _descriptors[_count++] = (InGpa + (ulong)_inLength, (uint)size, false);
        _inLength += size;
        return span;
    }

    /// <summary>Appends a NUL-terminated name (given with its terminator) as an argument.</summary>
    public void Name(ReadOnlySpan<byte> nameWithNul) => nameWithNul.CopyTo(Arg(nameWithNul.Length));

    /// <summary>The write payload area (page aligned); call <see cref="Data"/> with the length used.</summary>
    public Span<byte> DataArea => _ram.GetSpan(InGpa + HeaderArea, (ulong)DataCapacity);

    public void Data(int length)
    {
        if (length > DataCapacity) throw new ArgumentException("payload exceeds the slot");
        _dataLength = length;
        for (int off = 0; off < length; off += Page)
            _descriptors[_count++] = (InGpa + HeaderArea + (ulong)off, (uint)Math.Min(Page, length - off), false);
    }

    /// <summary>Lays out the device-writable part: out_header, up to two reply arguments, then data pages.</summary>
    public void Reply(int arg0 = 0, int arg1 = 0, int dataCapacity = 0)
    {
        if (dataCapacity > ReplyCapacity) throw new ArgumentException("reply exceeds the slot");
        _descriptors[_count++] = (OutGpa, FuseConstants.OutHeaderSize, true);
        if (arg0 > 0) { _descriptors[_count++] = (OutGpa + (ulong)_replyArgsEnd, (uint)arg0, true); _replyArgsEnd += arg0; }
        if (arg1 > 0) { _descriptors[_count++] = (OutGpa + (ulong)_replyArgsEnd, (uint)arg1, true); _replyArgsEnd += arg1; }
        for (int off = 0; off < dataCapacity; off += Page)
            _descriptors[_count++] = (OutGpa + HeaderArea + (ulong)off, (uint)Math.Min(Page, dataCapacity - off), true);
    }

    /// <summary>Writes in_header.len and returns the descriptors of the chain.</summary>
    public ReadOnlySpan<(ulong addr, uint len, bool writable)> Finish()
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_ram.GetSpan(InGpa, 4), (uint)(_inLength + _dataLength));
        return _descriptors.AsSpan(0, _count);
    }

    /// <summary>Reply argument bytes (after out_header), contiguous in the reply buffer.</summary>
    public ReadOnlySpan<byte> ReplyArgs(int length) => _ram.GetSpan(OutGpa + FuseConstants.OutHeaderSize, (ulong)length);

    /// <summary>Reply data (READ, READDIRPLUS), which starts at the first data page.</summary>
    public ReadOnlySpan<byte> ReplyData(int length) => _ram.GetSpan(OutGpa + HeaderArea, (ulong)length);

    public ReadOnlySpan<byte> OutHeader => _ram.GetSpan(OutGpa, FuseConstants.OutHeaderSize);
}
