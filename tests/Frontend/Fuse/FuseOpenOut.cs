using System.Buffers.Binary;

namespace VirtioFs.Frontend.Fuse;

/// <summary>struct fuse_open_out: the file handle and FOPEN_* flags.</summary>
public readonly record struct FuseOpenOut(ulong Fh, uint OpenFlags)
{
    public const uint FopenDirectIo = 1, FopenKeepCache = 2, FopenNonseekable = 4, FopenCacheDir = 8, FopenStream = 16;

    public static FuseOpenOut Decode(ReadOnlySpan<byte> b)
        => new(BinaryPrimitives.ReadUInt64LittleEndian(b), BinaryPrimitives.ReadUInt32LittleEndian(b[8..]));
}
