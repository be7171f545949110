using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Fuse.Abi;

namespace VirtioFs.Tests.Posix;

/// <summary>A transport that can answer later: records every deferred request and the reply it finally got.</summary>
internal sealed class RecordingDeferredReplies : IFuseDeferredReplies
{
    private int _deferred;

    public int Deferred => Volatile.Read(ref _deferred);

    public BlockingCollection<(object Token, FuseOutHeader Header)> Completed { get; } = new();

    public object Defer() => Interlocked.Increment(ref _deferred);

    public void Complete(object token, ReadOnlySpan<byte> reply)
    {
        var header = Unsafe.ReadUnaligned<FuseOutHeader>(ref MemoryMarshal.GetReference(reply));
        if (header.Len != reply.Length) throw new InvalidOperationException("reply length differs from its header");
        Completed.Add((token, header));
    }

    /// <summary>The next completion within <paramref name="timeout"/>, or null.</summary>
    public FuseOutHeader? Next(TimeSpan timeout)
        => Completed.TryTake(out var item, timeout) ? item.Header : null;
}
