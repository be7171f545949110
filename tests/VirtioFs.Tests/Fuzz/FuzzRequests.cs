using System.Buffers.Binary;
using System.Text;
using VirtioFs.Frontend.Fuse;
using VirtioFs.Tests.Hostile;
using static VirtioFs.Frontend.Fuse.FuseConstants;

namespace VirtioFs.Tests.Fuzz;

/// <summary>
/// Structured random FUSE requests: a plausible request for a random opcode (every opcode the kernel knows, plus
/// unknown ones), with node ids and handles mostly from what the share handed out, names from a hostile pool; then,
/// for a share of them, blind mutations (bit flips, truncation, garbage, lying lengths, swapped opcodes).
/// <see cref="Sanitize"/> keeps the few fields that could hurt the test machine itself in bounds (device numbers,
/// allocation lengths): the fuzzer attacks the share, not the host's disk.
/// </summary>
internal sealed class FuzzRequests
{
    private static readonly string[] Names =
    [
        "a", "b", "c", "d", "file1", "file2", "dir1", "dir2", "link", "fifo", "sock", "..", ".", "", " ", "a/b",
        "../outside", "/etc/passwd", "é", new string('n', 255), new string('n', 256), "x\0y",
    ];

    private static readonly uint[] OpenFlags = [O_RDONLY, O_WRONLY, O_RDWR, O_RDWR | O_TRUNC, O_WRONLY | O_APPEND, O_RDONLY | O_DIRECTORY, O_RDWR | O_CREAT | O_EXCL, 0x800 /* O_NONBLOCK */, 0x4000 /* O_DIRECT */, O_NOFOLLOW];

    private readonly Random _random;

    public FuzzRequests(Random random) => _random = random;

    public List<ulong> Nodes { get; } = [1];
    public List<ulong> Handles { get; } = [];

    private ulong Node() => _random.Next(10) switch
    {
        0 => (ulong)_random.NextInt64(),
        1 => _random.Next(2) == 0 ? 0UL : ulong.MaxValue,
        _ => Nodes[_random.Next(Nodes.Count)],
    };

    private ulong Handle() => Handles.Count == 0 || _random.Next(5) == 0 ? (ulong)_random.NextInt64() : Handles[_random.Next(Handles.Count)];

    private string Name() => _random.Next(8) == 0 ? Encoding.Latin1.GetString(RandomBytes(_random.Next(1, 20))) : Names[_random.Next(Names.Length)];

    private uint Size() => _random.Next(6) switch
    {
        0 => 0,
        1 => 1,
        2 => 4096,
        3 => 65536,
        4 => 1u << 20,
        _ => (uint)_random.Next(),
    };

    private ulong Offset() => _random.Next(5) switch
    {
        0 => 0,
        1 => 4096,
        2 => 1UL << 40,
        3 => ulong.MaxValue - (ulong)_random.Next(4096),
        _ => (ulong)_random.Next(1 << 20),
    };

    private uint Mode() => (_random.Next(6) switch
    {
        0 => S_IFREG,
        1 => S_IFDIR,
        2 => S_IFIFO,
        3 => S_IFSOCK,
        4 => S_IFCHR,
        _ => (uint)_random.Next() & S_IFMT,
    }) | ((uint)_random.Next() & 0xFFF);

    private byte[] RandomBytes(int length)
    {
        byte[] b = new byte[length];
        _random.NextBytes(b);
        return b;
    }

    /// <summary>A request for a random opcode; <paramref name="opcode"/> says which (for bookkeeping of the reply).</summary>
    public byte[] Next(ulong unique, out uint opcode)
    {
        RawArgs a = new();
        ulong node = Node();
        FuseOpcode op = (FuseOpcode)PickOpcode();
        switch (op)
        {
            case FuseOpcode.Lookup or FuseOpcode.Unlink or FuseOpcode.Rmdir: a.Name(Name()); break;
            case FuseOpcode.Forget: a.U64(_random.Next(3) == 0 ? ulong.MaxValue : (ulong)_random.Next(3)); break;
            case FuseOpcode.Getattr: a = RawArgs.GetattrIn(_random.Next(2) == 0 ? Handle() : null); break;
            case FuseOpcode.Setattr:
                var valid = (uint)_random.Next(1 << 12);
                a = RawArgs.SetattrIn(new FuseSetattrIn(valid, Handle(), Offset(), 0, (ulong)_random.Next(), (ulong)_random.Next(), 0,
                    (uint)_random.Next(), (uint)_random.Next(), 0, Mode(), (uint)_random.Next(3), (uint)_random.Next(3)));
                break;
            case FuseOpcode.Symlink: a.Name(Name()).Name(_random.Next(3) == 0 ? "/" : Name()); break;
            case FuseOpcode.Mknod: a = RawArgs.MknodIn(Mode(), (uint)_random.Next()).Name(Name()); break;
            case FuseOpcode.Mkdir: a = RawArgs.MkdirIn(Mode()).Name(Name()); break;
            case FuseOpcode.Rename: a.U64(Node()).Name(Name()).Name(Name()); break;
            case FuseOpcode.Rename2: a.U64(Node()).U32((uint)_random.Next(8)).U32(0).Name(Name()).Name(Name()); break;
            case FuseOpcode.Link: a.U64(Node()).Name(Name()); break;
            case FuseOpcode.Open or FuseOpcode.Opendir: a = RawArgs.OpenIn(OpenFlags[_random.Next(OpenFlags.Length)]); break;
            case FuseOpcode.Read or FuseOpcode.Readdir or FuseOpcode.Readdirplus: a = RawArgs.ReadIn(Handle(), Offset(), Size()); break;
            case FuseOpcode.Write:
                byte[] data = RandomBytes(_random.Next(3) == 0 ? _random.Next(65536) : _random.Next(64));
                uint claimed = _random.Next(4) == 0 ? Size() : (uint)data.Length;
                a = RawArgs.WriteIn(Handle(), Offset() & 0xFFFF_FFFF, claimed).Bytes(data);
                break;
            case FuseOpcode.Release or FuseOpcode.Releasedir: a = RawArgs.ReleaseIn(Handle()); break;
            case FuseOpcode.Flush: a = RawArgs.FlushIn(Handle()); break;
            case FuseOpcode.Fsync or FuseOpcode.Fsyncdir: a = RawArgs.FsyncIn(Handle()); break;
            case FuseOpcode.Setxattr:
                byte[] value = RandomBytes(_random.Next(100));
                a.U32(_random.Next(5) == 0 ? Size() : (uint)value.Length).U32((uint)_random.Next(4)).Name(XattrName()).Bytes(value);
                break;
            case FuseOpcode.Getxattr: a = RawArgs.GetxattrIn(Size()).Name(XattrName()); break;
            case FuseOpcode.Listxattr: a = RawArgs.GetxattrIn(Size()); break;
            case FuseOpcode.Removexattr: a.Name(XattrName()); break;
            case FuseOpcode.Init: a.U32(7).U32((uint)_random.Next(45)).U32(Size()).U32((uint)_random.Next()).U32((uint)_random.Next()).Bytes(new byte[44]); break;
            case FuseOpcode.Access: a.U32((uint)_random.Next(8)).U32(0); break;
            case FuseOpcode.Create or FuseOpcode.Tmpfile: a = RawArgs.CreateIn(OpenFlags[_random.Next(OpenFlags.Length)] | O_CREAT, Mode()).Name(Name()); break;
            case FuseOpcode.Interrupt: a.U64(unique - 2); break;
            case FuseOpcode.BatchForget:
                int n = _random.Next(20);
                a.U32(_random.Next(4) == 0 ? (uint)_random.Next() : (uint)n).U32(0);
                for (int i = 0; i < n; i++) a.U64(Node()).U64((ulong)_random.NextInt64());
                break;
            case FuseOpcode.Fallocate: a = RawArgs.FallocateIn(Handle(), Offset() & 0xFFFF_FFFF, (ulong)_random.Next(1 << 20)); break;
            case FuseOpcode.Lseek: a = RawArgs.LseekIn(Handle(), Offset(), (uint)_random.Next(6)); break;
            case FuseOpcode.CopyFileRange: a.U64(Handle()).U64(Offset()).U64(Node()).U64(Handle()).U64(Offset() & 0xFFFF_FFFF).U64((ulong)_random.Next(1 << 20)).U64(0); break;
            case FuseOpcode.Getlk or FuseOpcode.Setlk: a.U64(Handle()).U64((ulong)_random.Next()).U64(Offset()).U64(Offset()).U32((uint)_random.Next(3)).U32(1).U32((uint)_random.Next(2)).U32(0); break;
            case FuseOpcode.Readlink or FuseOpcode.Statfs or FuseOpcode.Destroy: break;
            default: a.Bytes(RandomBytes(_random.Next(64))); break;   // BMAP, IOCTL, POLL, mappings, SYNCFS, STATX, unknown
        }
        opcode = (uint)op;
        return a.Request(op, unique, node);
    }

    private string XattrName() => _random.Next(3) switch
    {
        0 => "user." + Name(),
        1 => Name(),
        _ => new[] { "security.capability", "trusted.x", "system.posix_acl_access", "user.a", "user.b" }[_random.Next(5)],
    };

    private uint PickOpcode() => _random.Next(40) switch
    {
        0 => (uint)_random.Next(53, 5000),
        1 => (uint)_random.Next(),
        // DESTROY and INIT reset the session: rare, so the rest has state to work on.
        2 => _random.Next(10) == 0 ? (uint)FuseOpcode.Destroy : (uint)FuseOpcode.Init,
        _ => Common[_random.Next(Common.Length)],
    };

    private static readonly uint[] Common = Enumerable.Range(1, 52)
        .Where(o => o is not 7 and not 19 and not 26 and not 33 and not 38)   // unused numbers, INIT/DESTROY (above), SETLKW (may block)
        .Select(o => (uint)o).ToArray();

    /// <summary>Blind damage to a valid request: 1 to 4 of bit flips, random bytes, truncation, extension, lying len, another opcode.</summary>
    public byte[] Mutate(byte[] request)
    {
        var r = new List<byte>(request);
        int count = _random.Next(1, 5);
        for (int i = 0; i < count; i++)
        {
            switch (_random.Next(7))
            {
                case 0 when r.Count > 0: int bit = _random.Next(r.Count * 8); r[bit / 8] ^= (byte)(1 << (bit % 8)); break;
                case 1 when r.Count > 0: r[_random.Next(r.Count)] = (byte)_random.Next(256); break;
                case 2:
                    int cut = _random.Next(r.Count + 1);
                    r.RemoveRange(cut, r.Count - cut);
                    break;
                case 3: r.AddRange(RandomBytes(_random.Next(1, 300))); break;
                case 4 when r.Count >= 4:
                    uint len = _random.Next(3) switch { 0 => (uint)r.Count + 1, 1 => (uint)Math.Max(0, r.Count - 1), _ => (uint)_random.Next() };
                    Put32(r, 0, len);
                    break;
                case 5 when r.Count >= 8: Put32(r, 4, Common[_random.Next(Common.Length)]); break;
                case 6 when r.Count >= 24: Put64(r, 16, Node()); break;
            }
        }
        return r.ToArray();
    }

    /// <summary>
    /// Keeps the host safe from the fuzzer's own requests: device nodes only as /dev/null (1:3), allocations and copies
    /// at most 1 MiB, never SETLKW (it may wait for a lock forever by design). Applied after mutation.
    /// </summary>
    public static byte[] Sanitize(byte[] request)
    {
        if (request.Length < 8) return request;
        uint opcode = BinaryPrimitives.ReadUInt32LittleEndian(request.AsSpan(4));
        Span<byte> args = request.AsSpan(Math.Min(request.Length, InHeaderSize));
        switch ((FuseOpcode)opcode)
        {
            case FuseOpcode.Mknod when args.Length >= 8:
                uint type = BinaryPrimitives.ReadUInt32LittleEndian(args) & S_IFMT;
                if (type is S_IFCHR or S_IFBLK) BinaryPrimitives.WriteUInt32LittleEndian(args[4..], (1 << 8) | 3);
                break;
            case FuseOpcode.Fallocate when args.Length >= 24:
                BinaryPrimitives.WriteUInt64LittleEndian(args[8..], BinaryPrimitives.ReadUInt64LittleEndian(args[8..]) & 0xFFFF_FFFF);
                BinaryPrimitives.WriteUInt64LittleEndian(args[16..], BinaryPrimitives.ReadUInt64LittleEndian(args[16..]) & 0xF_FFFF);
                break;
            case FuseOpcode.CopyFileRange when args.Length >= 48:
                BinaryPrimitives.WriteUInt64LittleEndian(args[40..], BinaryPrimitives.ReadUInt64LittleEndian(args[40..]) & 0xF_FFFF);
                break;
            case FuseOpcode.Setlkw:
                BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), (uint)FuseOpcode.Setlk);
                break;
        }
        return request;
    }

    private static void Put32(List<byte> r, int at, uint value)
    {
        for (int i = 0; i < 4; i++) r[at + i] = unchecked((byte)(value >> (8 * i)));
    }

    private static void Put64(List<byte> r, int at, ulong value)
    {
        for (int i = 0; i < 8; i++) r[at + i] = unchecked((byte)(value >> (8 * i)));
    }
}
