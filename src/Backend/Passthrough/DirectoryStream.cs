using System.Buffers;

namespace VirtioFs.Backend.Passthrough;

/// <summary>
/// Where a directory handle's listing stands, as a DIR* keeps it: the getdents64 records read but not yet sent, and
/// the guest offset at which they continue. A READDIR that asks for exactly that offset (the usual case: the guest
/// resumes where the last reply ended) carries on from the buffer, and then from the descriptor's position, without
/// seeking; only another offset (rewinddir, telldir/seekdir, a concurrent reader) costs an lseek, which on ext4 makes
/// the htree readdir rebuild its hash cursor. Serialized by the handle's directory lock.
/// <para>
/// The buffer is rented only while records are pending (a listing read to its end, or a handle never read, holds
/// none), so a guest holding many directories open mid-listing costs at most <see cref="BufferSize"/> each.
/// </para>
/// </summary>
internal sealed class DirectoryStream
{
    /// <summary>getdents64 bytes read at a time: more than one 4 KiB READDIR reply's worth of records.</summary>
    public const int BufferSize = 4096;

    private byte[]? _buffer;

    /// <summary>Pending records are Buffer[Start..End).</summary>
    public int Start;
    public int End;

    /// <summary>
    /// The offset the guest names to continue with the first pending record (or, with none pending, with what the
    /// descriptor reads next): the d_off of the last record consumed, 0 for a fresh handle.
    /// </summary>
    public ulong Position;

    /// <summary>False when the descriptor's position is not known (after an error): the next READDIR seeks.</summary>
    public bool PositionKnown = true;

    /// <summary>The records buffer, rented on first use.</summary>
    public byte[] Buffer => _buffer ??= ArrayPool<byte>.Shared.Rent(BufferSize);

    public int Pending => End - Start;

    /// <summary>The descriptor was moved to <paramref name="offset"/>: nothing pending.</summary>
    public void SeekedTo(ulong offset)
    {
        Start = End = 0;
        Position = offset;
        PositionKnown = true;
    }

    /// <summary>The listing reached its end (or the handle closes): give the buffer back.</summary>
    public void Release()
    {
        Start = End = 0;
        byte[]? buffer = _buffer;
        _buffer = null;
        if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
    }
}
