using System.Buffers.Binary;

namespace VirtioFs.Frontend.Fuse;

/// <summary>struct fuse_attr (88 bytes).</summary>
public readonly record struct FuseAttr(
    ulong Ino, ulong Size, ulong Blocks, ulong Atime, ulong Mtime, ulong Ctime, uint AtimeNsec, uint MtimeNsec,
    uint CtimeNsec, uint Mode, uint Nlink, uint Uid, uint Gid, uint Rdev, uint Blksize, uint Flags)
{
    public uint FileType => Mode & FuseConstants.S_IFMT;
    public uint Permissions => Mode & 0xFFF;

    public static FuseAttr Decode(ReadOnlySpan<byte> b) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(b), BinaryPrimitives.ReadUInt64LittleEndian(b[8..]),
        BinaryPrimitives.ReadUInt64LittleEndian(b[16..]), BinaryPrimitives.ReadUInt64LittleEndian(b[24..]),
        BinaryPrimitives.ReadUInt64LittleEndian(b[32..]), BinaryPrimitives.ReadUInt64LittleEndian(b[40..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[48..]), BinaryPrimitives.ReadUInt32LittleEndian(b[52..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[56..]), BinaryPrimitives.ReadUInt32LittleEndian(b[60..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[64..]), BinaryPrimitives.ReadUInt32LittleEndian(b[68..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[72..]), BinaryPrimitives.ReadUInt32LittleEndian(b[76..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[80..]), BinaryPrimitives.ReadUInt32LittleEndian(b[84..]));

    /// <summary>"dir", "reg", "lnk", ... for messages and comparisons.</summary>
    public static string TypeName(uint mode) => (mode & FuseConstants.S_IFMT) switch
    {
        FuseConstants.S_IFDIR => "dir", FuseConstants.S_IFREG => "reg", FuseConstants.S_IFLNK => "lnk",
        FuseConstants.S_IFIFO => "fifo", FuseConstants.S_IFSOCK => "sock", FuseConstants.S_IFCHR => "chr",
        FuseConstants.S_IFBLK => "blk", 0 => "none", var t => $"type 0x{t:x}",
    };
}
