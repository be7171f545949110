using VirtioFs.Backend.Interop;
using Xunit;

namespace VirtioFs.Tests.Posix;

/// <summary>Host-side facts about a path (lstat through statx), for asserting what the daemon did.</summary>
internal static unsafe class HostFile
{
    public static Libc.statx_t Lstat(string path)
    {
        Libc.statx_t st;
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            Assert.Equal(0, Libc.statx(Libc.AT_FDCWD, p, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, &st));
        }
        return st;
    }

    public static uint Mode(string path) => Lstat(path).stx_mode;

    public static (uint Uid, uint Gid) Owner(string path)
    {
        Libc.statx_t st = Lstat(path);
        return (st.stx_uid, st.stx_gid);
    }

    public static void Chown(string path, uint uid, uint gid)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            Assert.Equal(0, Libc.fchownat(Libc.AT_FDCWD, p, uid, gid, Libc.AT_SYMLINK_NOFOLLOW));
        }
    }

    /// <summary>chmod with the exact bits (set-id and sticky included); File.SetUnixFileMode would too, but this names them.</summary>
    public static void Chmod(string path, uint mode)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            Assert.Equal(0, Libc.fchmodat(Libc.AT_FDCWD, p, mode, 0));
        }
    }

    /// <summary>A directory on the host with exactly this owner and mode.</summary>
    public static string Directory(string parent, string name, uint uid, uint gid, uint mode)
    {
        string path = Path.Combine(parent, name);
        System.IO.Directory.CreateDirectory(path);
        Chown(path, uid, gid);
        Chmod(path, mode);
        return path;
    }
}
