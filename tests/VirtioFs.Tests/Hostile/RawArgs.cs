using System.Buffers.Binary;
using System.Text;
using VirtioFs.Frontend.Fuse;

namespace VirtioFs.Tests.Hostile;

/// <summary>
/// Builds the argument bytes of a raw FUSE request field by field, the way a modified guest driver would: little
/// endian integers, names with or without terminators, anything at all. <see cref="Request"/> prepends fuse_in_header.
/// </summary>
internal sealed class RawArgs
{
    private readonly List<byte> _bytes = new();

    public RawArgs U32(uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        _bytes.AddRange(b.ToArray());
        return this;
    }

    public RawArgs U64(ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        _bytes.AddRange(b.ToArray());
        return this;
    }

    /// <summary>The bytes of <paramref name="name"/> followed by one NUL (which may not be the first NUL in it).</summary>
    public RawArgs Name(byte[] name)
    {
        _bytes.AddRange(name);
        _bytes.Add(0);
        return this;
    }

    public RawArgs Name(string name) => Name(Encoding.UTF8.GetBytes(name));

    public RawArgs Bytes(ReadOnlySpan<byte> bytes)
    {
        _bytes.AddRange(bytes.ToArray());
        return this;
    }

    public byte[] ToArray() => _bytes.ToArray();

    /// <summary>fuse_in_header (uid/gid 0, as a root guest process) + these arguments, len computed.</summary>
    public byte[] Request(FuseOpcode opcode, ulong unique, ulong nodeId) => FuseClient.BuildRequest(opcode, unique, nodeId, ToArray());

    // Fixed parts of the requests the hostile tests send (FUSE 7.36 layouts).
    public static RawArgs OpenIn(uint flags) => new RawArgs().U32(flags).U32(0);

    public static RawArgs ReadIn(ulong fh, ulong offset, uint size) => new RawArgs().U64(fh).U64(offset).U32(size).U32(0).U64(0).U32(0).U32(0);

    public static RawArgs WriteIn(ulong fh, ulong offset, uint size) => new RawArgs().U64(fh).U64(offset).U32(size).U32(0).U64(0).U32(0).U32(0);

    public static RawArgs ReleaseIn(ulong fh) => new RawArgs().U64(fh).U32(0).U32(0).U64(0);

    public static RawArgs FlushIn(ulong fh) => new RawArgs().U64(fh).U32(0).U32(0).U64(0);

    public static RawArgs FsyncIn(ulong fh) => new RawArgs().U64(fh).U32(0).U32(0);

    public static RawArgs GetattrIn(ulong? fh = null) => new RawArgs().U32(fh is null ? 0u : 1u).U32(0).U64(fh ?? 0);

    public static RawArgs LseekIn(ulong fh, ulong offset, uint whence) => new RawArgs().U64(fh).U64(offset).U32(whence).U32(0);

    public static RawArgs FallocateIn(ulong fh, ulong offset, ulong length) => new RawArgs().U64(fh).U64(offset).U64(length).U32(0).U32(0);

    public static RawArgs CreateIn(uint flags, uint mode) => new RawArgs().U32(flags).U32(mode).U32(0).U32(0);

    public static RawArgs MknodIn(uint mode, uint rdev) => new RawArgs().U32(mode).U32(rdev).U32(0).U32(0);

    public static RawArgs MkdirIn(uint mode) => new RawArgs().U32(mode).U32(0);

    public static RawArgs GetxattrIn(uint size) => new RawArgs().U32(size).U32(0);

    public static RawArgs SetattrIn(in FuseSetattrIn setattr)
    {
        byte[] b = new byte[FuseConstants.SetattrInSize];
        setattr.Encode(b);
        return new RawArgs().Bytes(b);
    }
}
