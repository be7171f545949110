namespace VirtioFs.Frontend.Fuse;

/// <summary>
/// One reusable request/reply buffer pair in guest RAM plus the bookkeeping of the request in it. In the request buffer,
/// in_header and arguments start at 0 and data starts at <see cref="DataOffset"/> (page-aligned in the Linux shape,
/// right after the arguments in the compact shape); the reply buffer is laid out the same way.
/// </summary>
internal sealed class FuseSlot(int index, ulong inGpa, ulong outGpa, int descriptorCapacity)
{
    /// <summary>Room for in_header and arguments: enough for two PATH_MAX names (hostile tests send long ones).</summary>
    public const int HeaderArea = 3 * 4096;
    /// <summary>Room for out_header and reply arguments in the reply buffer before its data pages.</summary>
    public const int ReplyHeaderArea = 4096;

    public readonly int Index = index;
    public readonly ulong InGpa = inGpa;
    public readonly ulong OutGpa = outGpa;
    public readonly (ulong addr, uint len, bool writable)[] Descriptors = new (ulong, uint, bool)[descriptorCapacity];
    public readonly int[] ArgEnds = new int[8];

    public int ArgCount;
    public int InLength;      // header + args
    public int DataOffset;    // where request data starts in the request buffer
    public int DataLength;
    public readonly int[] ReplyArgSizes = new int[4];
    public int ReplyArgCount;
    public int ReplyArgsEnd;  // out_header + reply args
    public int ReplyDataOffset;
    public int ReplyDataCapacity;

    public ulong Unique;
    public FuseOpcode Opcode;
    public ushort Head;
    public bool Busy;
    public bool NoReply;

    public int ReplyCapacity => ReplyArgsEnd + ReplyDataCapacity;

    /// <summary>Where byte <paramref name="streamOffset"/> of the reply stream sits in the reply buffer.</summary>
    public int ReplyMemoryOffset(int streamOffset)
        => streamOffset < ReplyArgsEnd ? streamOffset : ReplyDataOffset + (streamOffset - ReplyArgsEnd);
}
