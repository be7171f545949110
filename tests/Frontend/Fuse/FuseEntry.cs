using System.Buffers.Binary;

namespace VirtioFs.Frontend.Fuse;

/// <summary>struct fuse_entry_out (128 bytes).</summary>
public readonly record struct FuseEntry(
    ulong NodeId, ulong Generation, ulong EntryValid, ulong AttrValid, uint EntryValidNsec, uint AttrValidNsec, FuseAttr Attr)
{
    public static FuseEntry Decode(ReadOnlySpan<byte> b) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(b), BinaryPrimitives.ReadUInt64LittleEndian(b[8..]),
        BinaryPrimitives.ReadUInt64LittleEndian(b[16..]), BinaryPrimitives.ReadUInt64LittleEndian(b[24..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[32..]), BinaryPrimitives.ReadUInt32LittleEndian(b[36..]),
        FuseAttr.Decode(b.Slice(40, FuseConstants.AttrSize)));
}
