using VirtioFs.Bench.Driver;
using VirtioFs.Bench.Measure;

namespace VirtioFs.Bench.Workloads;

/// <summary>
/// One benchmark operation as a small state machine over FUSE requests. An instance belongs to one driver thread
/// (its counters and random state are not shared) and allocates nothing per operation.
/// </summary>
internal abstract class Workload(SessionSetup setup, int queueIndex)
{
    protected readonly SessionSetup Setup = setup;
    protected readonly int QueueIndex = queueIndex;
    private XorShift64 _random = new(0x9E3779B97F4A7C15UL ^ (ulong)(queueIndex * 7919 + setup.TargetIndex * 104729));

    /// <summary>File bytes one operation moves (0 for metadata workloads).</summary>
    public virtual long BytesPerOp => 0;

    /// <summary>Sends the first request of a new operation.</summary>
    public abstract void Start(Op op, PipelinedClient client);

    /// <summary>Handles a reply; sends the next request and returns false, or returns true when the operation is done.</summary>
    public abstract bool Continue(Op op, PipelinedClient client, int errno, int bodyLength);

    /// <summary>xorshift64: a cheap random number per call, different per queue and target.</summary>
    protected ulong NextRandom() => _random.Next();

    /// <summary>Writes "prefix" + decimal number + NUL into the op's name buffer without allocating.</summary>
    protected static void FormatName(Op op, ReadOnlySpan<byte> prefix, long number)
    {
        prefix.CopyTo(op.Name);
        int n = prefix.Length;
        Span<byte> digits = stackalloc byte[20];
        int d = 0;
        do
        {
            digits[d++] = (byte)('0' + number % 10);
            number /= 10;
        }
        while (number > 0);
        while (d > 0) op.Name[n++] = digits[--d];
        op.Name[n++] = 0;
        op.NameLength = n;
    }
}
