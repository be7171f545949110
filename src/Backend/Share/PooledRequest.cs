using VirtioFs.Backend.Memory;

namespace VirtioFs.Backend.Share;

/// <summary>
/// One request handed from a queue thread to its worker pool: the chain's segments (filled by TryPop straight into
/// these lists), the guest memory reference that keeps them mapped, and, once served, the outcome the queue thread
/// needs for the used ring and its statistics. Preallocated per queue and reused; owned by exactly one thread at a
/// time (queue thread → pool thread → queue thread), handed over through the pool's concurrent queues.
/// </summary>
internal sealed class PooledRequest
{
    public PooledRequest(int segmentCapacity)
    {
        Readable = new SegmentList(segmentCapacity);
        Writable = new SegmentList(segmentCapacity);
    }

    public SegmentList Readable { get; }

    public SegmentList Writable { get; }

    /// <summary>The chain's head, for AddUsed.</summary>
    public ushort Head;

    /// <summary>A reference taken by the queue thread at dispatch, released by it at completion.</summary>
    public GuestMemory? Memory;

    // Filled by the pool thread.
    public int ReplyLength;
    public uint Opcode;
    public int Error;
    public long DataRead;
    public long DataWritten;
    public long ElapsedTicks;
}
