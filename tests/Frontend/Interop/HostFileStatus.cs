using System.Buffers.Binary;
using VirtioFs.Backend.Interop;

namespace VirtioFs.Frontend.Interop;

/// <summary>lstat-like facts about a host path that .NET does not expose (file type, link count), via statx(2).</summary>
public readonly record struct HostFileStatus(uint Mode, uint Nlink, ulong Size, ulong Ino, uint Uid, uint Gid)
{
    public uint FileType => Mode & 0xF000;
    public uint Permissions => Mode & 0xFFF;

    /// <summary>Status of <paramref name="path"/> itself (symlinks not followed); throws <see cref="ErrnoException"/> on failure.</summary>
    public static unsafe HostFileStatus Of(string path)
    {
        byte* buffer = stackalloc byte[FrontendLibc.StatxSize];
        if (FrontendLibc.statx(FrontendLibc.AT_FDCWD, path, FrontendLibc.AT_SYMLINK_NOFOLLOW, FrontendLibc.STATX_BASIC_STATS, buffer) != 0)
            throw new ErrnoException("statx", (Errno)System.Runtime.InteropServices.Marshal.GetLastPInvokeError(), path);
        var b = new ReadOnlySpan<byte>(buffer, FrontendLibc.StatxSize);
        // struct statx: mask u32 @0, blksize u32 @4, attributes u64 @8, nlink u32 @16, uid u32 @20, gid u32 @24,
        // mode u16 @28, ino u64 @32, size u64 @40
        return new HostFileStatus(
            BinaryPrimitives.ReadUInt16LittleEndian(b[28..]), BinaryPrimitives.ReadUInt32LittleEndian(b[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[40..]), BinaryPrimitives.ReadUInt64LittleEndian(b[32..]),
            BinaryPrimitives.ReadUInt32LittleEndian(b[20..]), BinaryPrimitives.ReadUInt32LittleEndian(b[24..]));
    }
}
