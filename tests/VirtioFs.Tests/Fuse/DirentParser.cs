using System.Runtime.CompilerServices;
using System.Text;
using VirtioFs.Backend.Fuse.Abi;
using Xunit;

namespace VirtioFs.Tests.Fuse;

/// <summary>Decodes READDIR / READDIRPLUS reply bodies, checking alignment and zeroed padding.</summary>
internal static class DirentParser
{
    public sealed record Entry(string Name, ulong Ino, ulong Offset, uint Type, FuseEntryOut Plus);

    public static List<Entry> Parse(ReadOnlySpan<byte> body, bool plus)
    {
        var entries = new List<Entry>();
        int position = 0;
        int nameOffset = plus ? FuseConstants.DirentPlusNameOffset : FuseConstants.DirentNameOffset;
        while (position < body.Length)
        {
            FuseEntryOut entry = plus ? Unsafe.ReadUnaligned<FuseEntryOut>(ref Unsafe.AsRef(in body[position])) : default;
            FuseDirent dirent = Unsafe.ReadUnaligned<FuseDirent>(ref Unsafe.AsRef(in body[position + nameOffset - 24]));
            int size = (nameOffset + (int)dirent.NameLen + 7) & ~7;
            Assert.True(position + size <= body.Length, "record runs past the reply");
            string name = Encoding.UTF8.GetString(body.Slice(position + nameOffset, (int)dirent.NameLen));
            Assert.True(body.Slice(position + nameOffset + (int)dirent.NameLen, size - nameOffset - (int)dirent.NameLen).IndexOfAnyExcept((byte)0) < 0,
                "padding must be zero");
            entries.Add(new Entry(name, dirent.Ino, dirent.Off, dirent.Type, entry));
            position += size;
        }
        return entries;
    }
}
