using System.Runtime.CompilerServices;
using VirtioFs.Backend.Fuse.Abi;

namespace VirtioFs.Tests.Fuse;

/// <summary>A decoded reply: the used length the server returned, the out header, and the body bytes.</summary>
internal sealed class FuseReply
{
    public FuseReply(int usedLength, byte[] bytes)
    {
        UsedLength = usedLength;
        Bytes = bytes;
        if (usedLength >= 16) Header = Unsafe.ReadUnaligned<FuseOutHeader>(ref bytes[0]);
    }

    /// <summary>What HandleRequest returned.</summary>
    public int UsedLength { get; }

    /// <summary>The first UsedLength bytes of the reply segments, concatenated.</summary>
    public byte[] Bytes { get; }

    public FuseOutHeader Header { get; }

    /// <summary>Positive errno of the reply (0 for success).</summary>
    public int Errno => -Header.Error;

    public ReadOnlySpan<byte> Body => Bytes.AsSpan(16);

    public T Read<T>(int offset = 0) where T : unmanaged
    {
        if (Body.Length < offset + Unsafe.SizeOf<T>())
            throw new InvalidOperationException($"Reply body is {Body.Length} bytes, {typeof(T).Name} at {offset} does not fit (errno {Errno}).");
        return Unsafe.ReadUnaligned<T>(ref Bytes[16 + offset]);
    }
}
