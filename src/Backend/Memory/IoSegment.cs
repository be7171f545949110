namespace VirtioFs.Backend.Memory;

/// <summary>
/// One contiguous piece of a request or reply buffer in host memory. For a virtqueue it points straight into guest
/// memory and has already been bounds-checked against the memory table; for /dev/fuse it points into the channel's
/// own buffer. Guest memory can change under us at any time: read what you need once, copy names before checking them.
/// </summary>
public readonly unsafe struct IoSegment
{
    public IoSegment(byte* address, uint length)
    {
        Address = address;
        Length = length;
    }

    public byte* Address { get; }
    public uint Length { get; }

    public Span<byte> AsSpan() => new(Address, checked((int)Length));
}
