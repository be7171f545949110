using System.Buffers.Binary;

namespace VirtioFs.Frontend.Fuse;

/// <summary>struct fuse_kstatfs (80 bytes).</summary>
public readonly record struct FuseStatfs(
    ulong Blocks, ulong Bfree, ulong Bavail, ulong Files, ulong Ffree, uint Bsize, uint Namelen, uint Frsize)
{
    public static FuseStatfs Decode(ReadOnlySpan<byte> b) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(b), BinaryPrimitives.ReadUInt64LittleEndian(b[8..]),
        BinaryPrimitives.ReadUInt64LittleEndian(b[16..]), BinaryPrimitives.ReadUInt64LittleEndian(b[24..]),
        BinaryPrimitives.ReadUInt64LittleEndian(b[32..]), BinaryPrimitives.ReadUInt32LittleEndian(b[40..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[44..]), BinaryPrimitives.ReadUInt32LittleEndian(b[48..]));
}
