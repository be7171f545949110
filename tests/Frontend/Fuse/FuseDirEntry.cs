using System.Buffers.Binary;
using System.Text;

namespace VirtioFs.Frontend.Fuse;

/// <summary>One struct fuse_dirent (or fuse_direntplus, then <see cref="Entry"/> is set).</summary>
public sealed record FuseDirEntry(ulong Ino, ulong Offset, uint Type, string Name, FuseEntry? Entry)
{
    /// <summary>
    /// Decodes a READDIR/READDIRPLUS reply body; entries are 8-byte aligned. Throws <see cref="FuseProtocolException"/>
    /// on a record that runs past the reply (a backend bug).
    /// </summary>
    public static void DecodeAll(ReadOnlySpan<byte> body, bool plus, List<FuseDirEntry> into)
    {
        int pos = 0;
        while (pos < body.Length)
        {
            FuseEntry? entry = null;
            if (plus)
            {
                if (body.Length - pos < FuseConstants.EntryOutSize + FuseConstants.DirentHeaderSize)
                    throw new FuseProtocolException($"READDIRPLUS reply: truncated record at offset {pos} of {body.Length}");
                entry = FuseEntry.Decode(body.Slice(pos, FuseConstants.EntryOutSize));
                pos += FuseConstants.EntryOutSize;
            }
            if (body.Length - pos < FuseConstants.DirentHeaderSize)
                throw new FuseProtocolException($"READDIR reply: truncated dirent at offset {pos} of {body.Length}");
            var d = body[pos..];
            ulong ino = BinaryPrimitives.ReadUInt64LittleEndian(d);
            ulong off = BinaryPrimitives.ReadUInt64LittleEndian(d[8..]);
            uint namelen = BinaryPrimitives.ReadUInt32LittleEndian(d[16..]);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(d[20..]);
            if (namelen > (uint)(d.Length - FuseConstants.DirentHeaderSize))
                throw new FuseProtocolException($"dirent at offset {pos}: name length {namelen} runs past the reply ({body.Length} bytes)");
            string name = Encoding.UTF8.GetString(d.Slice(FuseConstants.DirentHeaderSize, (int)namelen));
            into.Add(new FuseDirEntry(ino, off, type, name, entry));
            int record = (FuseConstants.DirentHeaderSize + (int)namelen + 7) & ~7;
            pos += Math.Min(record, d.Length);
        }
    }
}
