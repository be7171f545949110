using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using VirtioFs.Backend.Interop;

namespace VirtioFs.Bench.Measure;

/// <summary>
/// The host's own cost of each workload's syscalls, in a tight loop on one thread with no daemon and no virtqueue:
/// what no daemon can beat. A daemon's depth-1 latency minus this is its overhead per request (virtqueue, eventfd
/// wake-ups, thread switches, decoding, bookkeeping).
/// </summary>
internal sealed unsafe class SyscallFloor : IDisposable
{
    public sealed record Floor(string Workload, string Syscalls, double P50Micros, double OpsPerSecond, double MegabytesPerSecond);

    private readonly PreparedDirectory _dir;
    private readonly int _listDir, _createDir, _big, _write, _root;
    private readonly byte* _buffer;
    private readonly byte* _name;
    private readonly byte* _empty;
    private readonly byte* _dot;
    private readonly Libc.statx_t* _statx;
    private XorShift64 _random = new(12345);
    private long _sequential;
    private long _created;

    private SyscallFloor(PreparedDirectory dir)
    {
        _dir = dir;
        _root = Open(dir.Root, Libc.O_RDONLY | Libc.O_DIRECTORY);
        _listDir = Open(Path.Combine(dir.Root, PreparedDirectory.ListDir), Libc.O_RDONLY | Libc.O_DIRECTORY);
        _createDir = Open(Path.Combine(dir.Root, PreparedDirectory.CreateDir), Libc.O_RDONLY | Libc.O_DIRECTORY);
        _big = Open(Path.Combine(dir.Root, PreparedDirectory.BigFile), Libc.O_RDONLY);
        _write = Open(Path.Combine(dir.Root, PreparedDirectory.WriteFile), Libc.O_RDWR);
        _buffer = (byte*)NativeMemory.AlignedAlloc(1 << 20, 4096);
        _name = (byte*)NativeMemory.AllocZeroed(64);
        _empty = (byte*)NativeMemory.AllocZeroed(8);
        _dot = (byte*)NativeMemory.AllocZeroed(8);
        _dot[0] = (byte)'.';
        _statx = (Libc.statx_t*)NativeMemory.AllocZeroed((nuint)sizeof(Libc.statx_t));
    }

    public static List<Floor> MeasureAll(PreparedDirectory dir, TimeSpan each)
    {
        using var f = new SyscallFloor(dir);
        return
        [
            Loop("getattr", "statx(AT_EMPTY_PATH)", 0, each, f.Getattr),
            Loop("lookup", "openat(O_PATH)+statx+close", 0, each, f.Lookup),
            Loop("read4k", "pread 4 KiB, random offset", 4096, each, f.Read4k),
            Loop("read1m", "pread 1 MiB, sequential", 1 << 20, each, f.Read1m),
            Loop("write4k", "pwrite 4 KiB, random offset", 4096, each, f.Write4k),
            Loop("create", "openat(O_CREAT|O_EXCL)+close+unlinkat", 0, each, f.Create),
            Loop("readdirplus", "open+getdents64+statx per entry+close", 0, each, f.ReaddirPlus),
            Loop("relookup", "statx by name", 0, each, f.Relookup),
        ];
    }

    private void Getattr() => Check(Libc.statx(_root, _empty, Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, _statx));

    private void Lookup()
    {
        WriteName("f", (long)(_random.Next() % (ulong)_dir.ListEntries));
        int fd = Check(Libc.openat(_listDir, _name, Libc.O_PATH | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0));
        Check(Libc.statx(fd, _empty, Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, _statx));
        Libc.close(fd);
    }

    private void Relookup()
    {
        WriteName("f", (long)(_random.Next() % (ulong)_dir.ListEntries));
        Check(Libc.statx(_listDir, _name, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, _statx));
    }

    private void Read4k()
    {
        long block = (long)(_random.Next() % (ulong)(_dir.BigFileSize / 4096));
        CheckLength(Libc.pread(_big, _buffer, 4096, block * 4096), 4096);
    }

    private void Read1m()
    {
        long blocks = _dir.BigFileSize >> 20;
        CheckLength(Libc.pread(_big, _buffer, 1 << 20, (_sequential++ % blocks) << 20), 1 << 20);
    }

    private void Write4k()
    {
        long block = (long)(_random.Next() % (ulong)(_dir.WriteFileSize / 4096));
        CheckLength(Libc.pwrite(_write, _buffer, 4096, block * 4096), 4096);
    }

    private void Create()
    {
        WriteName("floor", _created++);
        int fd = Check(Libc.openat(_createDir, _name, Libc.O_RDWR | Libc.O_CREAT | Libc.O_EXCL | Libc.O_CLOEXEC, 0x1A4));
        Libc.close(fd);
        Check(Libc.unlinkat(_createDir, _name, 0));
    }

    private void ReaddirPlus()
    {
        int fd = Check(Libc.openat(_listDir, _dot, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0));
        while (true)
        {
            nint n = Libc.getdents64(fd, _buffer, 1 << 16);
            if (n <= 0) break;
            for (nint pos = 0; pos < n;)
            {
                var d = (Libc.linux_dirent64*)(_buffer + pos);
                Libc.statx(fd, _buffer + pos + Libc.DIRENT64_NAME_OFFSET, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, _statx);
                pos += d->d_reclen;
            }
        }
        Libc.close(fd);
    }

    private static Floor Loop(string workload, string syscalls, long bytesPerOp, TimeSpan each, Action op)
    {
        for (int i = 0; i < 200; i++) op(); // warm the JIT and the dentry cache
        var samples = new List<long>(1 << 20);
        long start = Stopwatch.GetTimestamp();
        long end = start + (long)(each.TotalSeconds * Stopwatch.Frequency);
        long now = start;
        while (now < end)
        {
            long t0 = Stopwatch.GetTimestamp();
            op();
            now = Stopwatch.GetTimestamp();
            samples.Add(now - t0);
        }
        double seconds = (now - start) / (double)Stopwatch.Frequency;
        samples.Sort();
        double p50 = samples[samples.Count / 2] * 1e6 / Stopwatch.Frequency;
        return new Floor(workload, syscalls, p50, samples.Count / seconds, samples.Count * (double)bytesPerOp / seconds / 1e6);
    }

    private void WriteName(string prefix, long number)
    {
        int n = Encoding.ASCII.GetBytes(prefix + number, new Span<byte>(_name, 60));
        _name[n] = 0;
    }

    private static int Open(string path, int flags)
    {
        byte[] p = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* pp = p) return Check(Libc.openat(Libc.AT_FDCWD, pp, flags | Libc.O_CLOEXEC, 0));
    }

    private static int Check(int result)
    {
        if (result < 0) throw new ErrnoException("syscall floor", Libc.LastErrno);
        return result;
    }

    private static void CheckLength(nint result, int expected)
    {
        if (result != expected) throw new InvalidOperationException($"syscall floor: {result} bytes instead of {expected} ({Libc.LastErrno})");
    }

    public void Dispose()
    {
        NativeMemory.AlignedFree(_buffer);
        NativeMemory.Free(_name);
        NativeMemory.Free(_empty);
        NativeMemory.Free(_dot);
        NativeMemory.Free(_statx);
        foreach (int fd in new[] { _root, _listDir, _createDir, _big, _write }) Libc.close(fd);
    }
}
