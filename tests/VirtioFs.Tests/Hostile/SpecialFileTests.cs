using System.Net.Sockets;
using VirtioFs.Backend.Interop;
using VirtioFs.Frontend.Fuse;
using Xunit;
using static VirtioFs.Frontend.Fuse.FuseConstants;

namespace VirtioFs.Tests.Hostile;

/// <summary>
/// CVE-2020-35517: OPEN, or CREATE over an existing name, of a FIFO, socket or device node must never make the share
/// open it on the host (a FIFO would block a queue thread forever; a device would hand the guest host hardware).
/// Checked three ways: the errno, no queue stalls (short client timeout), and no non-O_PATH descriptor to any of
/// those nodes ever shows up in /proc/self/fd; a FIFO writer probe confirms no reader was ever attached.
/// </summary>
public sealed class SpecialFileTests : IDisposable
{
    private const int O_PATH = 0x200000, O_NONBLOCK = 0x800;

    private readonly ConfinedShare _share = new(clientTimeout: TimeSpan.FromSeconds(5));
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);

    public void Dispose()
    {
        _socket.Dispose();
        _share.Dispose();
    }

    private FuseClient Client => _share.Client;

    [Fact]
    public void FifosSocketsAndDevicesAreNeverOpened()
    {
        string shared = _share.SharedDir;
        ConfinedShare.MakeNode(Path.Combine(shared, "host-fifo"), Libc.S_IFIFO | 0x1B6, 0);
        ConfinedShare.MakeNode(Path.Combine(shared, "host-null"), Libc.S_IFCHR | 0x1B6, (1 << 8) | 3);
        ConfinedShare.MakeNode(Path.Combine(shared, "host-zero"), Libc.S_IFCHR | 0x1B6, (1 << 8) | 5);
        _socket.Bind(new UnixDomainSocketEndPoint(Path.Combine(shared, "host-sock")));
        _socket.Listen(1);
        // And the same kinds created by the guest itself (MKNOD is allowed: the inode is harmless until opened).
        Assert.Equal(0, Client.Mknod(1, "guest-fifo", S_IFIFO | 0x1A4, 0, out _));
        Assert.Equal(0, Client.Mknod(1, "guest-null", S_IFCHR | 0x1B6, (1 << 8) | 3, out _));
        Assert.Equal(0, Client.Mknod(1, "guest-sock", S_IFSOCK | 0x1A4, 0, out _));

        string[] names = ["host-fifo", "host-null", "host-zero", "host-sock", "guest-fifo", "guest-null", "guest-sock"];
        var problems = new List<string>();
        foreach (string name in names)
        {
            Assert.Equal(0, Client.Lookup(1, name, out FuseEntry entry));
            foreach (uint flags in new uint[] { O_RDONLY, O_WRONLY, O_RDWR, O_RDONLY | O_NONBLOCK, O_WRONLY | O_NONBLOCK, O_RDWR | O_TRUNC })
            {
                int errno = Client.Open(entry.NodeId, flags, out FuseOpenOut open);
                if (errno == 0)
                {
                    problems.Add($"OPEN {name} flags 0x{flags:x} succeeded");
                    Client.Release(entry.NodeId, open.Fh);
                }
            }
            // CREATE over the existing name: without O_EXCL the fallback must check the type; with O_EXCL it is EEXIST.
            foreach (uint flags in new uint[] { O_CREAT | O_RDWR, O_CREAT | O_WRONLY | O_TRUNC, O_CREAT | O_RDONLY | O_NONBLOCK, O_CREAT | O_EXCL | O_RDWR })
            {
                int errno = Client.Create(1, name, flags, S_IFREG | 0x1A4, out _, out FuseOpenOut open);
                if (errno == 0)
                {
                    problems.Add($"CREATE over {name} flags 0x{flags:x} succeeded");
                    Client.Release(entry.NodeId, open.Fh);
                }
            }
            if (Client.Setattr(entry.NodeId, FuseSetattrIn.Truncate(0), out _) == 0) problems.Add($"SETATTR size on {name} succeeded");
            if (Client.Opendir(entry.NodeId, out _) == 0) problems.Add($"OPENDIR {name} succeeded");
            problems.AddRange(OpenedSpecialFiles(names));
        }
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));

        // A FIFO with no reader refuses a non-blocking writer (ENXIO): the share never attached as a reader.
        foreach (string fifo in new[] { "host-fifo", "guest-fifo" })
        {
            Assert.Equal(Errno.ENXIO, OpenWriterNonBlocking(Path.Combine(shared, fifo)));
        }
        _share.AssertConfined();
    }

    private static unsafe Errno OpenWriterNonBlocking(string path)
    {
        byte[] p = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* b = p)
        {
            int fd = Libc.openat(Libc.AT_FDCWD, b, Libc.O_WRONLY | O_NONBLOCK | Libc.O_CLOEXEC, 0);
            if (fd < 0) return Libc.LastErrno;
            Libc.close(fd);
            return 0;
        }
    }

    /// <summary>Descriptors of this process that name one of the special files and are not O_PATH (inode references are fine).</summary>
    private IEnumerable<string> OpenedSpecialFiles(string[] names)
    {
        var paths = names.Select(n => Path.Combine(_share.SharedDir, n)).ToHashSet(StringComparer.Ordinal);
        foreach (string link in Directory.GetFiles("/proc/self/fd"))
        {
            string? target;
            string? flagsLine;
            try
            {
                target = new FileInfo(link).LinkTarget;
                flagsLine = File.ReadLines($"/proc/self/fdinfo/{Path.GetFileName(link)}").FirstOrDefault(l => l.StartsWith("flags:", StringComparison.Ordinal));
            }
            catch (IOException)
            {
                continue;   // closed meanwhile
            }
            if (target is null || !paths.Contains(target) || flagsLine is null) continue;
            int flags = Convert.ToInt32(flagsLine["flags:".Length..].Trim(), 8);
            if ((flags & O_PATH) == 0) yield return $"fd {Path.GetFileName(link)} opens {target} with flags 0{Convert.ToString(flags, 8)}";
        }
    }
}
