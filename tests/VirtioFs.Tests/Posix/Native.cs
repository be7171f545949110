using System.Text;
using VirtioFs.Backend.Interop;
using Xunit;

namespace VirtioFs.Tests.Posix;

/// <summary>Path-based libc calls for tests that run real syscalls through a mount.</summary>
internal static unsafe class Native
{
    public static byte[] Z(string path) => Encoding.UTF8.GetBytes(path + "\0");

    /// <summary>open(2); returns the fd or -errno.</summary>
    public static int Open(string path, int flags, uint mode = 0x1A4)
    {
        fixed (byte* p = Z(path))
        {
            int fd = Libc.openat(Libc.AT_FDCWD, p, flags | Libc.O_CLOEXEC, mode);
            return fd >= 0 ? fd : -(int)Libc.LastErrno;
        }
    }

    public static int OpenOk(string path, int flags, uint mode = 0x1A4)
    {
        int fd = Open(path, flags, mode);
        Assert.True(fd >= 0, $"open {path}: errno {-fd}");
        return fd;
    }

    public static int Errno(int result) => result == 0 ? 0 : (int)Libc.LastErrno;

    /// <summary>fcntl OFD lock: 0 or errno.</summary>
    public static int OfdLock(int fd, int command, short type, long start = 0, long length = 0)
    {
        var lk = new Libc.flock_t { l_type = type, l_whence = 0, l_start = start, l_len = length };
        return Libc.fcntl(fd, command, &lk) == 0 ? 0 : (int)Libc.LastErrno;
    }

    public static void WriteAll(int fd, string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        fixed (byte* b = bytes)
        {
            Assert.Equal((nint)bytes.Length, Libc.pwrite(fd, b, (nuint)bytes.Length, 0));
        }
    }

    public static string? GetXattr(string path, string name, int size = 4096)
    {
        var buffer = new byte[Math.Max(size, 1)];
        fixed (byte* p = Z(path), n = Z(name), b = buffer)
        {
            nint length = Libc.getxattr(p, n, size == 0 ? null : b, (nuint)size);
            if (length < 0) return null;
            return size == 0 ? length.ToString(System.Globalization.CultureInfo.InvariantCulture) : Encoding.UTF8.GetString(buffer, 0, (int)length);
        }
    }

    public static int SetXattr(string path, string name, string value, int flags = 0)
    {
        byte[] v = Encoding.UTF8.GetBytes(value);
        fixed (byte* p = Z(path), n = Z(name), vv = v)
        {
            return Libc.setxattr(p, n, vv, (nuint)v.Length, flags) == 0 ? 0 : (int)Libc.LastErrno;
        }
    }

    public static string[] ListXattr(string path)
    {
        var buffer = new byte[65536];
        fixed (byte* p = Z(path), b = buffer)
        {
            nint length = Libc.listxattr(p, b, (nuint)buffer.Length);
            Assert.True(length >= 0, $"listxattr: errno {Libc.LastErrno}");
            return Encoding.UTF8.GetString(buffer, 0, (int)length).Split('\0', StringSplitOptions.RemoveEmptyEntries).Order().ToArray();
        }
    }

    public static int RemoveXattr(string path, string name)
    {
        fixed (byte* p = Z(path), n = Z(name))
        {
            return Libc.removexattr(p, n) == 0 ? 0 : (int)Libc.LastErrno;
        }
    }

    public static int Rename2(string from, string to, uint flags)
    {
        fixed (byte* f = Z(from), t = Z(to))
        {
            return Libc.renameat2(Libc.AT_FDCWD, f, Libc.AT_FDCWD, t, flags) == 0 ? 0 : (int)Libc.LastErrno;
        }
    }

    public static int Mknod(string path, uint mode, ulong dev = 0)
    {
        fixed (byte* p = Z(path))
        {
            return Libc.mknodat(Libc.AT_FDCWD, p, mode, dev) == 0 ? 0 : (int)Libc.LastErrno;
        }
    }

    /// <summary>Runs a program, waits, returns (exit code, stdout+stderr).</summary>
    public static (int Code, string Output) Run(string file, params string[] arguments)
    {
        var info = new System.Diagnostics.ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments) info.ArgumentList.Add(argument);
        using var process = System.Diagnostics.Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(30_000), $"{file} did not finish");
        return (process.ExitCode, output);
    }
}
