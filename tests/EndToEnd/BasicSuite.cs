using System.Security.Cryptography;
using VirtioFs.EndToEnd.Infrastructure;

namespace VirtioFs.EndToEnd;

/// <summary>
/// The host half of the basic suite; the guest half is tests/EndToEnd/guest/basic.sh (keep the two in step).
/// The host fills <c>input/</c>, the guest works in <c>out/</c>, and afterwards the host checks <c>out/</c>.
/// </summary>
internal static class BasicSuite
{
    public const string TestName = "basic";

    private const int MiB = 1024 * 1024;
    private const int BigFileSize = 64 * MiB;
    private const int ManyEntries = 2000;

    /// <summary>Every check the guest must report as PASS (init's own, then basic.sh's, in print order).</summary>
    public static readonly IReadOnlyList<string> ExpectedChecks =
    [
        "modules", "mount",
        "list", "read_host_file", "create", "write_read", "rename", "symlink", "hardlink", "chmod",
        "truncate", "truncate_extend", "mkdir", "rmdir", "rmdir_nonempty", "unlink",
        "guest_big", "guest_big_readback", "host_big", "many_list", "out_list",
        "umount",
    ];

    public static readonly IReadOnlyList<string> ExpectedValues = ["guest_big_sha256", "host_big_sha256"];

    /// <summary>Builds input/ in <paramref name="share"/>; returns the SHA-256 (lowercase hex) of input/big.bin.</summary>
    public static string PrepareShare(string share)
    {
        var input = Directory.CreateDirectory(Path.Combine(share, "input")).FullName;

        var tree = Path.Combine(input, "tree");
        Directory.CreateDirectory(Path.Combine(tree, "sub"));
        File.WriteAllText(Path.Combine(tree, "a.txt"), "alpha\n");
        File.WriteAllText(Path.Combine(tree, "b.txt"), "bravo\n");
        File.WriteAllText(Path.Combine(tree, ".hidden"), "hidden\n");
        File.WriteAllBytes(Path.Combine(tree, "empty"), []);
        File.WriteAllText(Path.Combine(tree, "sub", "c.txt"), "charlie in sub\n");

        var bigSha = WriteRandomFile(Path.Combine(input, "big.bin"), BigFileSize);
        File.WriteAllText(Path.Combine(input, "big.bin.sha256"), bigSha + "\n");

        var many = Directory.CreateDirectory(Path.Combine(input, "many")).FullName;
        for (var i = 0; i < ManyEntries; i++)
        {
            File.WriteAllBytes(Path.Combine(many, $"f{i:D4}"), []);
        }

        return bigSha;
    }

    /// <summary>Checks on the host what the guest left in out/; returns one line per mismatch.</summary>
    public static List<string> VerifyHostSide(string share, SerialReport report, string hostBigSha)
    {
        var problems = new List<string>();
        var output = Path.Combine(share, "out");
        string P(string name) => Path.Combine(output, name);

        void Expect(bool condition, string what)
        {
            if (!condition)
            {
                problems.Add("host: " + what);
            }
        }

        void ExpectText(string name, string expected)
        {
            var actual = File.Exists(P(name)) ? File.ReadAllText(P(name)) : null;
            Expect(actual == expected, $"out/{name} should contain {Quote(expected)}, has {(actual is null ? "no file" : Quote(actual))}");
        }

        if (!Directory.Exists(output))
        {
            problems.Add("host: out/ does not exist: the guest wrote nothing");
            return problems;
        }

        string[] expectedNames =
        [
            "after-rename.txt", "created.txt", "extended.bin", "full-dir", "guest-big.bin", "hardlink.txt", "made-dir",
            "mode.txt", "symlink-to-written", "truncated.bin", "written.txt",
        ];
        var actualNames = Directory.EnumerateFileSystemEntries(output).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Expect(actualNames.SequenceEqual(expectedNames), $"out/ should hold [{string.Join(", ", expectedNames)}], holds [{string.Join(", ", actualNames)}]");

        Expect(File.Exists(P("created.txt")) && new FileInfo(P("created.txt")).Length == 0, "out/created.txt should exist and be empty");
        ExpectText("written.txt", "hello from the guest\n");
        ExpectText("after-rename.txt", "renamed content\n");
        Expect(!Path.Exists(P("before-rename.txt")), "out/before-rename.txt should be gone after the rename");

        var link = new FileInfo(P("symlink-to-written"));
        Expect(link.LinkTarget == "written.txt", $"out/symlink-to-written should be a symlink to 'written.txt', target is {Quote(link.LinkTarget)}");

        if (File.Exists(P("written.txt")) && File.Exists(P("hardlink.txt")))
        {
            var written = HostStat.Lstat(P("written.txt"));
            var hard = HostStat.Lstat(P("hardlink.txt"));
            Expect(written.LinkCount == 2 && hard.LinkCount == 2, $"written.txt and hardlink.txt should have 2 links, have {written.LinkCount} and {hard.LinkCount}");
            Expect(written.Inode == hard.Inode && written.Device == hard.Device, "written.txt and hardlink.txt should be the same inode");
        }
        else
        {
            Expect(false, "out/written.txt and out/hardlink.txt should both exist");
        }

        if (File.Exists(P("mode.txt")))
        {
            var permissions = HostStat.Lstat(P("mode.txt")).Mode & 0xFFF; // the permission bits, setuid/setgid/sticky included
            Expect(permissions == 0x1A0, $"out/mode.txt should have mode 0640, has 0{Convert.ToString(permissions, 8)}"); // 0x1A0 == 0640
        }

        ExpectZeros("truncated.bin", 12345);
        ExpectZeros("extended.bin", MiB);

        Expect(Directory.Exists(P("made-dir")), "out/made-dir should be a directory");
        Expect(!Path.Exists(P("removed-dir")), "out/removed-dir should be gone after rmdir");
        Expect(File.Exists(Path.Combine(output, "full-dir", "keep")), "out/full-dir/keep should survive the refused rmdir");
        Expect(!Path.Exists(P("unlinked.txt")), "out/unlinked.txt should be gone after rm");

        if (File.Exists(P("guest-big.bin")))
        {
            Expect(new FileInfo(P("guest-big.bin")).Length == BigFileSize, $"out/guest-big.bin should be {BigFileSize} bytes, is {new FileInfo(P("guest-big.bin")).Length}");
            var onHost = Sha256(P("guest-big.bin"));
            var guestSaid = report.Values.GetValueOrDefault("guest_big_sha256");
            Expect(onHost == guestSaid, $"SHA-256 of out/guest-big.bin is {onHost} on the host, the guest wrote {Quote(guestSaid)}");
        }
        else
        {
            Expect(false, "out/guest-big.bin should exist");
        }

        var guestRead = report.Values.GetValueOrDefault("host_big_sha256");
        Expect(guestRead == hostBigSha, $"the guest read input/big.bin as {Quote(guestRead)}, the host wrote {hostBigSha}");
        return problems;

        void ExpectZeros(string name, long size)
        {
            if (!File.Exists(P(name)))
            {
                Expect(false, $"out/{name} should exist");
                return;
            }

            var bytes = File.ReadAllBytes(P(name));
            Expect(bytes.LongLength == size, $"out/{name} should be {size} bytes, is {bytes.LongLength}");
            Expect(bytes.All(b => b == 0), $"out/{name} should hold only zero bytes");
        }
    }

    private static string WriteRandomFile(string path, int size)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
        var chunk = new byte[MiB];
        for (var written = 0; written < size; written += chunk.Length)
        {
            RandomNumberGenerator.Fill(chunk);
            sha.AppendData(chunk);
            file.Write(chunk);
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static string Sha256(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(file));
    }

    private static string Quote(string? text) =>
        text is null ? "(nothing)" : "'" + text.Replace("\n", "\\n", StringComparison.Ordinal) + "'";
}
