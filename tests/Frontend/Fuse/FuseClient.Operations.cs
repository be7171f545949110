using System.Buffers.Binary;
using System.Text;

namespace VirtioFs.Frontend.Fuse;

// The typed operations: one method per opcode, each returning a positive errno (0 = success).
public sealed partial class FuseClient
{
    /// <summary>FUSE_INIT as Linux 6.1 sends it (7.36, flags of fuse_send_init unless given).</summary>
    public int Init(out FuseInitReply reply, ulong flags = FuseConstants.Linux61InitFlags, uint maxReadahead = 128 * 1024,
        uint major = FuseConstants.KernelMajor, uint minor = FuseConstants.KernelMinor)
    {
        var s = Begin(FuseOpcode.Init, 0);
        var a = Arg(s, FuseConstants.InitInSize);
        BinaryPrimitives.WriteUInt32LittleEndian(a, major);
        BinaryPrimitives.WriteUInt32LittleEndian(a[4..], minor);
        BinaryPrimitives.WriteUInt32LittleEndian(a[8..], maxReadahead);
        BinaryPrimitives.WriteUInt32LittleEndian(a[12..], (uint)flags);
        BinaryPrimitives.WriteUInt32LittleEndian(a[16..], (uint)(flags >> 32));
        Reply(s, FuseConstants.InitOutSize);
        try
        {
            int errno = Call(s, out int body);
            reply = errno == 0 ? FuseInitReply.Decode(ReplyBody(s, Math.Min(body, FuseConstants.InitOutSize))) : default;
            if (errno == 0) Session = reply;
            return errno;
        }
        finally
        {
            ReleaseSlot(s);
        }
    }

    public int Lookup(ulong parent, string name, out FuseEntry entry)
    {
        var s = Begin(FuseOpcode.Lookup, parent);
        ArgName(s, name);
        return Run(s, FuseConstants.EntryOutSize, FuseEntry.Decode, out entry);
    }

    public int Getattr(ulong nodeId, out FuseAttr attr, ulong? fh = null)
    {
        var s = Begin(FuseOpcode.Getattr, nodeId);
        var a = Arg(s, 16); // getattr_flags, dummy, fh
        if (fh is ulong handle)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(a, 1); // FUSE_GETATTR_FH
            BinaryPrimitives.WriteUInt64LittleEndian(a[8..], handle);
        }
        return Run(s, FuseConstants.AttrOutSize, b => FuseAttr.Decode(b.Slice(16, FuseConstants.AttrSize)), out attr);
    }

    public int Setattr(ulong nodeId, in FuseSetattrIn input, out FuseAttr attr)
    {
        var s = Begin(FuseOpcode.Setattr, nodeId);
        input.Encode(Arg(s, FuseConstants.SetattrInSize));
        return Run(s, FuseConstants.AttrOutSize, b => FuseAttr.Decode(b.Slice(16, FuseConstants.AttrSize)), out attr);
    }

    public int Readlink(ulong nodeId, out string target)
    {
        var s = Begin(FuseOpcode.Readlink, nodeId);
        Reply(s, dataCapacity: Math.Min(_options.MaxPayload, 4096));
        try
        {
            int errno = Call(s, out int body);
            target = errno == 0 ? Encoding.UTF8.GetString(ReplyBody(s, body)) : "";
            return errno;
        }
        finally
        {
            ReleaseSlot(s);
        }
    }

    public int Symlink(ulong parent, string name, string target, out FuseEntry entry)
    {
        var s = Begin(FuseOpcode.Symlink, parent);
        ArgName(s, name);
        ArgName(s, target);
        return Run(s, FuseConstants.EntryOutSize, FuseEntry.Decode, out entry);
    }

    public int Mknod(ulong parent, string name, uint mode, uint rdev, out FuseEntry entry, uint umask = 0)
    {
        var s = Begin(FuseOpcode.Mknod, parent);
        var a = Arg(s, 16); // mode, rdev, umask, padding
        BinaryPrimitives.WriteUInt32LittleEndian(a, mode);
        BinaryPrimitives.WriteUInt32LittleEndian(a[4..], rdev);
        BinaryPrimitives.WriteUInt32LittleEndian(a[8..], umask);
        ArgName(s, name);
        return Run(s, FuseConstants.EntryOutSize, FuseEntry.Decode, out entry);
    }

    public int Mkdir(ulong parent, string name, uint mode, out FuseEntry entry, uint umask = 0)
    {
        var s = Begin(FuseOpcode.Mkdir, parent);
        var a = Arg(s, 8); // mode, umask
        BinaryPrimitives.WriteUInt32LittleEndian(a, mode);
        BinaryPrimitives.WriteUInt32LittleEndian(a[4..], umask);
        ArgName(s, name);
        return Run(s, FuseConstants.EntryOutSize, FuseEntry.Decode, out entry);
    }

    public int Unlink(ulong parent, string name)
    {
        var s = Begin(FuseOpcode.Unlink, parent);
        ArgName(s, name);
        return RunNoReply(s);
    }

    public int Rmdir(ulong parent, string name)
    {
        var s = Begin(FuseOpcode.Rmdir, parent);
        ArgName(s, name);
        return RunNoReply(s);
    }

    public int Rename(ulong parent, string name, ulong newParent, string newName)
    {
        var s = Begin(FuseOpcode.Rename, parent);
        BinaryPrimitives.WriteUInt64LittleEndian(Arg(s, 8), newParent);
        ArgName(s, name);
        ArgName(s, newName);
        return RunNoReply(s);
    }

    public int Rename2(ulong parent, string name, ulong newParent, string newName, uint flags)
    {
        var s = Begin(FuseOpcode.Rename2, parent);
        var a = Arg(s, 16); // newdir, flags, padding
        BinaryPrimitives.WriteUInt64LittleEndian(a, newParent);
        BinaryPrimitives.WriteUInt32LittleEndian(a[8..], flags);
        ArgName(s, name);
        ArgName(s, newName);
        return RunNoReply(s);
    }

    public int Link(ulong nodeId, ulong newParent, string newName, out FuseEntry entry)
    {
        var s = Begin(FuseOpcode.Link, newParent);
        BinaryPrimitives.WriteUInt64LittleEndian(Arg(s, 8), nodeId); // oldnodeid
        ArgName(s, newName);
        return Run(s, FuseConstants.EntryOutSize, FuseEntry.Decode, out entry);
    }

    public int Open(ulong nodeId, uint flags, out FuseOpenOut open) => OpenLike(FuseOpcode.Open, nodeId, flags, out open);

    public int Opendir(ulong nodeId, out FuseOpenOut open, uint flags = FuseConstants.O_RDONLY | FuseConstants.O_DIRECTORY)
        => OpenLike(FuseOpcode.Opendir, nodeId, flags, out open);

    private int OpenLike(FuseOpcode opcode, ulong nodeId, uint flags, out FuseOpenOut open)
    {
        var s = Begin(opcode, nodeId);
        BinaryPrimitives.WriteUInt32LittleEndian(Arg(s, 8), flags); // flags, open_flags
        return Run(s, FuseConstants.OpenOutSize, FuseOpenOut.Decode, out open);
    }

    public int Create(ulong parent, string name, uint flags, uint mode, out FuseEntry entry, out FuseOpenOut open, uint umask = 0)
    {
        var s = Begin(FuseOpcode.Create, parent);
        var a = Arg(s, 16); // flags, mode, umask, open_flags
        BinaryPrimitives.WriteUInt32LittleEndian(a, flags);
        BinaryPrimitives.WriteUInt32LittleEndian(a[4..], mode);
        BinaryPrimitives.WriteUInt32LittleEndian(a[8..], umask);
        ArgName(s, name);
        Reply(s, FuseConstants.EntryOutSize, FuseConstants.OpenOutSize);
        try
        {
            int errno = Call(s, out int body);
            entry = default;
            open = default;
            if (errno != 0) return errno;
            if (body < FuseConstants.EntryOutSize + FuseConstants.OpenOutSize)
                throw new FuseProtocolException($"FUSE CREATE: {body}-byte reply, expected {FuseConstants.EntryOutSize + FuseConstants.OpenOutSize}");
            var b = ReplyBody(s, FuseConstants.EntryOutSize + FuseConstants.OpenOutSize);
            entry = FuseEntry.Decode(b);
            open = FuseOpenOut.Decode(b[FuseConstants.EntryOutSize..]);
            return 0;
        }
        finally
        {
            ReleaseSlot(s);
        }
    }

    /// <summary>READ into <paramref name="destination"/> (its length is the size asked for).</summary>
    public int Read(ulong nodeId, ulong fh, ulong offset, Span<byte> destination, out int bytesRead)
    {
        var s = Begin(FuseOpcode.Read, nodeId);
        EncodeReadIn(Arg(s, FuseConstants.ReadInSize), fh, offset, (uint)destination.Length);
        Reply(s, dataCapacity: destination.Length);
        try
        {
            int errno = Call(s, out int body);
            bytesRead = 0;
            if (errno != 0) return errno;
            CopyReply(s, 0, destination[..body]);
            bytesRead = body;
            return 0;
        }
        finally
        {
            ReleaseSlot(s);
        }
    }

    public int Read(ulong nodeId, ulong fh, ulong offset, uint size, out byte[] data)
    {
        byte[] buffer = new byte[size];
        int errno = Read(nodeId, fh, offset, buffer, out int n);
        data = errno == 0 ? buffer[..n] : [];
        return errno;
    }

    private static void EncodeReadIn(Span<byte> a, ulong fh, ulong offset, uint size, uint flags = 0)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(a, fh);
        BinaryPrimitives.WriteUInt64LittleEndian(a[8..], offset);
        BinaryPrimitives.WriteUInt32LittleEndian(a[16..], size);
        BinaryPrimitives.WriteUInt32LittleEndian(a[32..], flags);
    }

    public int Write(ulong nodeId, ulong fh, ulong offset, ReadOnlySpan<byte> data, out uint written, uint writeFlags = 0, uint flags = 0)
    {
        var s = Begin(FuseOpcode.Write, nodeId);
        EncodeWriteIn(Arg(s, FuseConstants.WriteInSize), fh, offset, (uint)data.Length, writeFlags, flags);
        Data(s, data);
        int errno = Run(s, FuseConstants.WriteOutSize, b => BinaryPrimitives.ReadUInt32LittleEndian(b), out written);
        return errno;
    }

    private static void EncodeWriteIn(Span<byte> a, ulong fh, ulong offset, uint size, uint writeFlags, uint flags)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(a, fh);
        BinaryPrimitives.WriteUInt64LittleEndian(a[8..], offset);
        BinaryPrimitives.WriteUInt32LittleEndian(a[16..], size);
        BinaryPrimitives.WriteUInt32LittleEndian(a[20..], writeFlags);
        BinaryPrimitives.WriteUInt32LittleEndian(a[32..], flags);
    }

    public int Flush(ulong nodeId, ulong fh, ulong lockOwner = 0)
    {
        var s = Begin(FuseOpcode.Flush, nodeId);
        var a = Arg(s, 24); // fh, unused, padding, lock_owner
        BinaryPrimitives.WriteUInt64LittleEndian(a, fh);
        BinaryPrimitives.WriteUInt64LittleEndian(a[16..], lockOwner);
        return RunNoReply(s);
    }

    public int Release(ulong nodeId, ulong fh, uint flags = 0) => ReleaseLike(FuseOpcode.Release, nodeId, fh, flags);

    public int Releasedir(ulong nodeId, ulong fh) => ReleaseLike(FuseOpcode.Releasedir, nodeId, fh, 0);

    private int ReleaseLike(FuseOpcode opcode, ulong nodeId, ulong fh, uint flags)
    {
        var s = Begin(opcode, nodeId);
        var a = Arg(s, 24); // fh, flags, release_flags, lock_owner
        BinaryPrimitives.WriteUInt64LittleEndian(a, fh);
        BinaryPrimitives.WriteUInt32LittleEndian(a[8..], flags);
        return RunNoReply(s);
    }

    public int Fsync(ulong nodeId, ulong fh, bool datasync = false)
    {
        var s = Begin(FuseOpcode.Fsync, nodeId);
        var a = Arg(s, 16); // fh, fsync_flags, padding
        BinaryPrimitives.WriteUInt64LittleEndian(a, fh);
        BinaryPrimitives.WriteUInt32LittleEndian(a[8..], datasync ? 1u : 0u);
        return RunNoReply(s);
    }

    /// <summary>One READDIR call; decoded entries are appended to <paramref name="entries"/>.</summary>
    public int Readdir(ulong nodeId, ulong fh, ulong offset, uint size, List<FuseDirEntry> entries)
        => ReaddirLike(FuseOpcode.Readdir, nodeId, fh, offset, size, entries);

    /// <summary>One READDIRPLUS call. Every entry with a non-zero nodeid counts as a lookup (FORGET it eventually).</summary>
    public int ReaddirPlus(ulong nodeId, ulong fh, ulong offset, uint size, List<FuseDirEntry> entries)
        => ReaddirLike(FuseOpcode.Readdirplus, nodeId, fh, offset, size, entries);

    private int ReaddirLike(FuseOpcode opcode, ulong nodeId, ulong fh, ulong offset, uint size, List<FuseDirEntry> entries)
    {
        var s = Begin(opcode, nodeId);
        EncodeReadIn(Arg(s, FuseConstants.ReadInSize), fh, offset, size);
        Reply(s, dataCapacity: (int)size);
        try
        {
            int errno = Call(s, out int body);
            if (errno != 0) return errno;
            FuseDirEntry.DecodeAll(ReplyBody(s, body), opcode == FuseOpcode.Readdirplus, entries);
            return 0;
        }
        finally
        {
            ReleaseSlot(s);
        }
    }

    /// <summary>OPENDIR, READDIR (or READDIRPLUS) until an empty reply, RELEASEDIR.</summary>
    public int ReadDirectory(ulong nodeId, out List<FuseDirEntry> entries, bool plus = false, uint chunk = 4096)
    {
        entries = [];
        int errno = Opendir(nodeId, out var open);
        if (errno != 0) return errno;
        try
        {
            ulong offset = 0;
            for (int round = 0; round < 100_000; round++)
            {
                int before = entries.Count;
                errno = plus ? ReaddirPlus(nodeId, open.Fh, offset, chunk, entries) : Readdir(nodeId, open.Fh, offset, chunk, entries);
                if (errno != 0) return errno;
                if (entries.Count == before) return 0;
                offset = entries[^1].Offset;
            }
            throw new FuseProtocolException("READDIR did not reach the end after 100000 calls");
        }
        finally
        {
            Releasedir(nodeId, open.Fh);
        }
    }

    public int Statfs(ulong nodeId, out FuseStatfs statfs)
    {
        var s = Begin(FuseOpcode.Statfs, nodeId);
        return Run(s, FuseConstants.StatfsOutSize, FuseStatfs.Decode, out statfs);
    }

    public int Access(ulong nodeId, uint mask)
    {
        var s = Begin(FuseOpcode.Access, nodeId);
        BinaryPrimitives.WriteUInt32LittleEndian(Arg(s, 8), mask);
        return RunNoReply(s);
    }

    public int Lseek(ulong nodeId, ulong fh, ulong offset, uint whence, out ulong resultOffset)
    {
        var s = Begin(FuseOpcode.Lseek, nodeId);
        var a = Arg(s, 24); // fh, offset, whence, padding
        BinaryPrimitives.WriteUInt64LittleEndian(a, fh);
        BinaryPrimitives.WriteUInt64LittleEndian(a[8..], offset);
        BinaryPrimitives.WriteUInt32LittleEndian(a[16..], whence);
        return Run(s, 8, b => BinaryPrimitives.ReadUInt64LittleEndian(b), out resultOffset);
    }

    public int Fallocate(ulong nodeId, ulong fh, ulong offset, ulong length, uint mode = 0)
    {
        var s = Begin(FuseOpcode.Fallocate, nodeId);
        var a = Arg(s, 32); // fh, offset, length, mode, padding
        BinaryPrimitives.WriteUInt64LittleEndian(a, fh);
        BinaryPrimitives.WriteUInt64LittleEndian(a[8..], offset);
        BinaryPrimitives.WriteUInt64LittleEndian(a[16..], length);
        BinaryPrimitives.WriteUInt32LittleEndian(a[24..], mode);
        return RunNoReply(s);
    }

    /// <summary>Resolves a '/'-separated path from the root with LOOKUPs (each one adds a lookup reference).</summary>
    public int LookupPath(string path, out FuseEntry entry)
    {
        entry = default;
        ulong node = FuseConstants.RootNodeId;
        foreach (string part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            int errno = Lookup(node, part, out entry);
            if (errno != 0) return errno;
            node = entry.NodeId;
        }
        if (node == FuseConstants.RootNodeId)
        {
            int errno = Getattr(node, out var attr);
            entry = new FuseEntry(node, 0, 0, 0, 0, 0, attr);
            return errno;
        }
        return 0;
    }
}
