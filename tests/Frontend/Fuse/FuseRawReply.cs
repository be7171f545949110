using System.Buffers.Binary;

namespace VirtioFs.Frontend.Fuse;

/// <summary>What came back for a raw request: the used length from the used ring and the bytes written (up to capacity).</summary>
public sealed record FuseRawReply(uint UsedLength, byte[] Reply)
{
    public bool HasHeader => Reply.Length >= FuseConstants.OutHeaderSize;
    public uint HeaderLength => HasHeader ? BinaryPrimitives.ReadUInt32LittleEndian(Reply) : 0;
    /// <summary>Positive errno from out_header.error (0 = success).</summary>
    public int Errno => HasHeader ? -BinaryPrimitives.ReadInt32LittleEndian(Reply.AsSpan(4)) : 0;
    public ulong Unique => HasHeader ? BinaryPrimitives.ReadUInt64LittleEndian(Reply.AsSpan(8)) : 0;
    public ReadOnlySpan<byte> Body => Reply.Length > FuseConstants.OutHeaderSize ? Reply.AsSpan(FuseConstants.OutHeaderSize) : [];
}
