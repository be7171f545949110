using System.Runtime.CompilerServices;
using VirtioFs.Backend.Fuse.Abi;

namespace VirtioFs.Backend.Fuse;

/// <summary>
/// Packs fuse_dirent / fuse_direntplus records into a reply buffer, each padded to 8 bytes with zeros (the padding
/// goes to the guest, so it must never carry stale bytes). A record that does not fit is refused whole.
/// </summary>
public ref struct FuseDirentWriter
{
    private readonly Span<byte> _buffer;
    private int _used;

    public FuseDirentWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _used = 0;
    }

    public readonly int BytesWritten => _used;

    public readonly int Capacity => _buffer.Length;

    public static int DirentSize(int nameLength) => Align8(FuseConstants.DirentNameOffset + nameLength);

    public static int DirentPlusSize(int nameLength) => Align8(FuseConstants.DirentPlusNameOffset + nameLength);

    public readonly bool Fits(int recordSize) => recordSize <= _buffer.Length - _used;

    public bool TryAdd(ulong ino, ulong offset, uint type, ReadOnlySpan<byte> name)
    {
        int size = DirentSize(name.Length);
        if (!Fits(size)) return false;
        Span<byte> record = _buffer.Slice(_used, size);
        WriteDirent(record, ino, offset, type, name);
        _used += size;
        return true;
    }

    /// <summary>Adds a fuse_direntplus; <paramref name="ino"/> is the dirent's inode number (entry may be all zero for "." and "..").</summary>
    public bool TryAddPlus(in FuseEntryOut entry, ulong ino, ulong offset, uint type, ReadOnlySpan<byte> name)
    {
        int size = DirentPlusSize(name.Length);
        if (!Fits(size)) return false;
        Span<byte> record = _buffer.Slice(_used, size);
        Unsafe.WriteUnaligned(ref record[0], entry);
        WriteDirent(record[Unsafe.SizeOf<FuseEntryOut>()..], ino, offset, type, name);
        _used += size;
        return true;
    }

    private static void WriteDirent(Span<byte> record, ulong ino, ulong offset, uint type, ReadOnlySpan<byte> name)
    {
        var dirent = new FuseDirent { Ino = ino, Off = offset, NameLen = (uint)name.Length, Type = type };
        Unsafe.WriteUnaligned(ref record[0], dirent);
        Span<byte> tail = record[FuseConstants.DirentNameOffset..];
        name.CopyTo(tail);
        tail[name.Length..].Clear();
    }

    private static int Align8(int value) => (value + 7) & ~7;
}
