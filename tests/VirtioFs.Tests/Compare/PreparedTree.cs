using System.Text;
using VirtioFs.Frontend.Fuse;
using VirtioFs.Frontend.Interop;
using static VirtioFs.Frontend.Fuse.FuseConstants;

namespace VirtioFs.Tests.Compare;

/// <summary>
/// A directory tree built once per comparison and copied fresh for each daemon, plus a normalized snapshot of a tree
/// (names, types, permission bits, sizes, link targets, contents; no times or inode numbers) to compare final states.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class PreparedTree
{
    /// <summary>The tree <see cref="RequestSequence.Standard"/> expects.</summary>
    public static void Standard(string root)
    {
        Write(root, "hello.txt", "hello world\n", Oct(644));
        Write(root, "empty", "", Oct(600));
        Write(root, "exec.sh", "#!/bin/sh\necho hi\n", Oct(755));
        Directory.CreateDirectory(Path.Combine(root, "dir"));
        Write(root, "dir/a.txt", "aaa", Oct(644));
        Directory.CreateDirectory(Path.Combine(root, "dir/sub"));
        byte[] deep = new byte[1000];
        for (int i = 0; i < deep.Length; i++) deep[i] = unchecked((byte)(i * 7));
        File.WriteAllBytes(Path.Combine(root, "dir/sub/deep.bin"), deep);
        Directory.CreateDirectory(Path.Combine(root, "emptydir"));
        File.CreateSymbolicLink(Path.Combine(root, "link-to-hello"), "hello.txt");
        File.CreateSymbolicLink(Path.Combine(root, "dangling"), "nowhere/at/all");
    }

    private static void Write(string root, string relative, string text, uint mode)
    {
        string path = Path.Combine(root, relative);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, (UnixFileMode)mode);
    }

    /// <summary>Copies <paramref name="source"/> into the new directory <paramref name="destination"/>, keeping symlinks and modes.</summary>
    public static void Copy(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        File.SetUnixFileMode(destination, File.GetUnixFileMode(source));
        foreach (var entry in new DirectoryInfo(source).EnumerateFileSystemInfos())
        {
            string target = Path.Combine(destination, entry.Name);
            if (entry.LinkTarget is not null) File.CreateSymbolicLink(target, entry.LinkTarget);
            else if (entry is DirectoryInfo) Copy(entry.FullName, target);
            else
            {
                File.Copy(entry.FullName, target);
                File.SetUnixFileMode(target, entry.UnixFileMode);
            }
        }
    }

    /// <summary>One line per entry, sorted: "path type mode size detail".</summary>
    public static string Snapshot(string root)
    {
        var lines = new List<string>();
        Walk(root, "", lines);
        lines.Sort(StringComparer.Ordinal);
        return string.Join('\n', lines);
    }

    private static void Walk(string root, string relative, List<string> lines)
    {
        foreach (var entry in new DirectoryInfo(Path.Combine(root, relative)).EnumerateFileSystemInfos())
        {
            string rel = relative.Length == 0 ? entry.Name : relative + "/" + entry.Name;
            string mode = "0" + Convert.ToString((int)entry.UnixFileMode, 8);
            if (entry.LinkTarget is not null) lines.Add($"{rel} lnk -> {entry.LinkTarget}");
            else if (entry is DirectoryInfo)
            {
                lines.Add($"{rel} dir {mode}");
                Walk(root, rel, lines);
            }
            else
            {
                var status = HostFileStatus.Of(entry.FullName);
                string kind = FuseAttr.TypeName(status.Mode);
                string content = kind == "reg" ? Describe(File.ReadAllBytes(entry.FullName)) : "";
                lines.Add($"{rel} {kind} {mode} size={status.Size} nlink={status.Nlink} {content}");
            }
        }
    }

    private static string Describe(byte[] data)
    {
        bool printable = data.All(x => x is >= 0x20 and < 0x7F or (byte)'\n');
        return printable
            ? "\"" + Step.Escape(Encoding.ASCII.GetString(data)) + "\""
            : "sha256=" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(data))[..16];
    }
}
