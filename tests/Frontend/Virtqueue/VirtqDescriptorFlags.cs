namespace VirtioFs.Frontend.Virtqueue;

/// <summary>struct virtq_desc flags (virtio 1.x, 2.7.5).</summary>
public static class VirtqDescriptorFlags
{
    public const ushort Next = 1;
    public const ushort Write = 2;
    public const ushort Indirect = 4;

    /// <summary>Size of one struct virtq_desc: le64 addr, le32 len, le16 flags, le16 next.</summary>
    public const int DescriptorSize = 16;

    /// <summary>Writes one descriptor at <paramref name="destination"/> (16 bytes).</summary>
    public static void Encode(Span<byte> destination, ulong addr, uint len, ushort flags, ushort next)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(destination, addr);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], len);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(destination[12..], flags);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(destination[14..], next);
    }
}
