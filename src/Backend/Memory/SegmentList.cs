namespace VirtioFs.Backend.Memory;

/// <summary>
/// A gather or scatter list of fixed capacity, owned by one queue thread and reused for every request, so building
/// a request allocates nothing. The total is kept in 64 bits: the guest chooses the lengths, and a chain of many
/// 4 GiB descriptors must not wrap a 32-bit sum.
/// </summary>
public sealed unsafe class SegmentList
{
    private readonly IoSegment[] _items;

    public SegmentList(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _items = new IoSegment[capacity];
    }

    public int Count { get; private set; }

    public int Capacity => _items.Length;

    /// <summary>Sum of all segment lengths.</summary>
    public ulong TotalLength { get; private set; }

    public ref readonly IoSegment this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
            return ref _items[index];
        }
    }

    public ReadOnlySpan<IoSegment> AsSpan() => new(_items, 0, Count);

    public void Clear()
    {
        Count = 0;
        TotalLength = 0;
    }

    /// <summary>Appends a segment; false when the list is full. Zero-length segments are skipped.</summary>
    public bool TryAdd(byte* address, uint length)
    {
        if (length == 0) return true;
        if (Count == _items.Length) return false;
        _items[Count++] = new IoSegment(address, length);
        TotalLength += length;
        return true;
    }
}
