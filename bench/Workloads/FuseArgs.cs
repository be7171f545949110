using System.Buffers.Binary;

namespace VirtioFs.Bench.Workloads;

/// <summary>Encoders for the few FUSE argument structs the workloads send (include/uapi/linux/fuse.h, 7.36).</summary>
internal static class FuseArgs
{
    public const int GetattrInSize = 16, ReadInSize = 40, WriteInSize = 40, CreateInSize = 16, ReleaseInSize = 24, OpenInSize = 8;
    public const int ForgetInSize = 8, EntryOutSize = 128, AttrOutSize = 104, OpenOutSize = 16, WriteOutSize = 8;
    public const uint O_RDONLY = 0, O_RDWR = 2, O_CREAT = 0x40, O_EXCL = 0x80, O_DIRECTORY = 0x10000;
    public const uint S_IFREG = 0x8000;

    /// <summary>fuse_read_in (READ, READDIRPLUS) and fuse_write_in share this layout: fh, offset, size.</summary>
    public static void ReadIn(Span<byte> a, ulong fh, ulong offset, uint size)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(a, fh);
        BinaryPrimitives.WriteUInt64LittleEndian(a[8..], offset);
        BinaryPrimitives.WriteUInt32LittleEndian(a[16..], size);
    }

    public static void ReleaseIn(Span<byte> a, ulong fh, uint flags)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(a, fh);
        BinaryPrimitives.WriteUInt32LittleEndian(a[8..], flags);
    }
}
