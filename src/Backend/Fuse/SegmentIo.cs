using System.Runtime.CompilerServices;
using VirtioFs.Backend.Memory;

namespace VirtioFs.Backend.Fuse;

/// <summary>
/// Byte-level access to a request or reply spread over several segments. Offsets are logical (from the start of the
/// first segment). Every read copies, so a value the guest changes afterwards cannot change what we checked.
/// </summary>
internal static unsafe class SegmentIo
{
    /// <summary>Copies sizeof(T) bytes at <paramref name="offset"/> into a local; in place when one segment holds them.</summary>
    public static bool TryRead<T>(ReadOnlySpan<IoSegment> segments, ulong offset, out T value) where T : unmanaged
    {
        int index = Locate(segments, ref offset);
        if (index >= 0 && segments[index].Length - offset >= (ulong)sizeof(T))
        {
            value = Unsafe.ReadUnaligned<T>(segments[index].Address + offset);
            return true;
        }
        value = default;
        return TryCopyOut(segments, index, offset, new Span<byte>(Unsafe.AsPointer(ref value), sizeof(T)));
    }

    /// <summary>Copies <paramref name="destination"/>.Length bytes starting at <paramref name="offset"/>.</summary>
    public static bool TryCopyOut(ReadOnlySpan<IoSegment> segments, ulong offset, Span<byte> destination)
    {
        int index = Locate(segments, ref offset);
        return TryCopyOut(segments, index, offset, destination);
    }

    /// <summary>Copies <paramref name="source"/> into the segments starting at <paramref name="offset"/>.</summary>
    public static bool TryCopyIn(ReadOnlySpan<IoSegment> segments, ulong offset, ReadOnlySpan<byte> source)
    {
        if (source.IsEmpty) return true;
        int index = Locate(segments, ref offset);
        if (index < 0) return false;
        while (!source.IsEmpty)
        {
            if (index >= segments.Length) return false;
            IoSegment segment = segments[index];
            int chunk = (int)Math.Min((ulong)source.Length, segment.Length - offset);
            source[..chunk].CopyTo(new Span<byte>(segment.Address + offset, chunk));
            source = source[chunk..];
            index++;
            offset = 0;
        }
        return true;
    }

    /// <summary>Writes a value at <paramref name="offset"/>; one store when one segment has room (a reply's usual case).</summary>
    public static bool TryWrite<T>(ReadOnlySpan<IoSegment> segments, ulong offset, in T value) where T : unmanaged
    {
        if (segments.Length > 0 && offset <= segments[0].Length && segments[0].Length - offset >= (ulong)sizeof(T))
        {
            Unsafe.WriteUnaligned(segments[0].Address + offset, value);
            return true;
        }
        fixed (T* p = &value)
        {
            return TryCopyIn(segments, offset, new ReadOnlySpan<byte>(p, sizeof(T)));
        }
    }

    /// <summary>
    /// Describes the bytes [offset, offset + length) as segments in <paramref name="into"/>. Returns the number of
    /// segments used, or -1 when the range does not lie inside the segments or needs more than into.Length entries.
    /// </summary>
    public static int Slice(ReadOnlySpan<IoSegment> segments, ulong offset, ulong length, Span<IoSegment> into)
    {
        if (length == 0) return 0;
        int index = Locate(segments, ref offset);
        if (index < 0) return -1;
        int count = 0;
        while (length > 0)
        {
            if (index >= segments.Length || count >= into.Length) return -1;
            IoSegment segment = segments[index];
            ulong chunk = Math.Min(length, segment.Length - offset);
            into[count++] = new IoSegment(segment.Address + offset, (uint)chunk);
            length -= chunk;
            index++;
            offset = 0;
        }
        return count;
    }

    /// <summary>Total length of a segment span, in 64 bits (the guest picks the lengths).</summary>
    public static ulong TotalLength(ReadOnlySpan<IoSegment> segments)
    {
        ulong total = 0;
        foreach (IoSegment segment in segments) total += segment.Length;
        return total;
    }

    // Finds the segment holding logical byte `offset` and turns offset into an offset inside it. -1 when past the end.
    private static int Locate(ReadOnlySpan<IoSegment> segments, ref ulong offset)
    {
        for (int i = 0; i < segments.Length; i++)
        {
            if (offset < segments[i].Length) return i;
            offset -= segments[i].Length;
        }
        return -1;
    }

    private static bool TryCopyOut(ReadOnlySpan<IoSegment> segments, int index, ulong offset, Span<byte> destination)
    {
        if (destination.IsEmpty) return true;
        if (index < 0) return false;
        while (!destination.IsEmpty)
        {
            if (index >= segments.Length) return false;
            IoSegment segment = segments[index];
            int chunk = (int)Math.Min((ulong)destination.Length, segment.Length - offset);
            new ReadOnlySpan<byte>(segment.Address + offset, chunk).CopyTo(destination);
            destination = destination[chunk..];
            index++;
            offset = 0;
        }
        return true;
    }
}
