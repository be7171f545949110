using System.Text;
using static VirtioFs.Frontend.Fuse.FuseConstants;

namespace VirtioFs.Tests.Compare;

/// <summary>
/// One operation of a <see cref="RequestSequence"/>, on '/'-separated paths relative to the share root.
/// <see cref="ExpectErrno"/>, when set, is what the sequence's author meant to provoke; the virtiofsd run checks it so
/// the sequence keeps testing what it says.
/// </summary>
public sealed record Step(StepKind Kind, string Path, string? Path2 = null, byte[]? Data = null, ulong Offset = 0,
    ulong Size = 0, uint Mode = 0, uint Flags = 0, int? ExpectErrno = null)
{
    public static Step Lookup(string path, int? expect = null) => new(StepKind.Lookup, path, ExpectErrno: expect);
    /// <summary>LOOKUP of one raw name (may contain '/', be "." or "..") in the directory at <paramref name="parent"/>.</summary>
    public static Step LookupName(string parent, string name, int? expect = null) => new(StepKind.LookupName, parent, name, ExpectErrno: expect);
    public static Step Getattr(string path, int? expect = null) => new(StepKind.Getattr, path, ExpectErrno: expect);
    public static Step Readdir(string path, int? expect = null) => new(StepKind.Readdir, path, ExpectErrno: expect);
    public static Step ReaddirPlus(string path) => new(StepKind.ReaddirPlus, path);
    public static Step Read(string path, ulong offset, ulong size, int? expect = null) => new(StepKind.Read, path, Offset: offset, Size: size, ExpectErrno: expect);
    public static Step Write(string path, ulong offset, string text, int? expect = null) => new(StepKind.Write, path, Data: Encoding.UTF8.GetBytes(text), Offset: offset, ExpectErrno: expect);
    public static Step Readlink(string path, int? expect = null) => new(StepKind.Readlink, path, ExpectErrno: expect);
    public static Step Mkdir(string path, uint mode, int? expect = null) => new(StepKind.Mkdir, path, Mode: mode, ExpectErrno: expect);
    public static Step Create(string path, uint mode, uint flags = O_RDWR | O_CREAT | O_EXCL, int? expect = null) => new(StepKind.Create, path, Mode: S_IFREG | mode, Flags: flags, ExpectErrno: expect);
    public static Step Open(string path, uint flags, int? expect = null) => new(StepKind.Open, path, Flags: flags, ExpectErrno: expect);
    public static Step Symlink(string path, string target, int? expect = null) => new(StepKind.Symlink, path, target, ExpectErrno: expect);
    public static Step Mknod(string path, uint mode, int? expect = null) => new(StepKind.Mknod, path, Mode: mode, ExpectErrno: expect);
    public static Step Link(string existing, string newPath, int? expect = null) => new(StepKind.Link, existing, newPath, ExpectErrno: expect);
    public static Step Unlink(string path, int? expect = null) => new(StepKind.Unlink, path, ExpectErrno: expect);
    public static Step Rmdir(string path, int? expect = null) => new(StepKind.Rmdir, path, ExpectErrno: expect);
    public static Step Rename(string from, string to, int? expect = null) => new(StepKind.Rename, from, to, ExpectErrno: expect);
    public static Step Rename2(string from, string to, uint flags, int? expect = null) => new(StepKind.Rename2, from, to, Flags: flags, ExpectErrno: expect);
    public static Step Truncate(string path, ulong size, int? expect = null) => new(StepKind.Truncate, path, Size: size, ExpectErrno: expect);
    public static Step Chmod(string path, uint mode, int? expect = null) => new(StepKind.Chmod, path, Mode: mode, ExpectErrno: expect);
    public static Step Statfs(string path) => new(StepKind.Statfs, path);
    public static Step Fallocate(string path, ulong offset, ulong length, int? expect = null) => new(StepKind.Fallocate, path, Offset: offset, Size: length, ExpectErrno: expect);

    public override string ToString() => Kind switch
    {
        StepKind.LookupName => $"LOOKUP name \"{Escape(Path2!)}\" in \"/{Path}\"",
        StepKind.Rename or StepKind.Link => $"{Kind.ToString().ToUpperInvariant()} /{Path} -> /{Path2}",
        StepKind.Rename2 => $"RENAME2 /{Path} -> /{Path2} flags={Flags}",
        StepKind.Symlink => $"SYMLINK /{Path} -> \"{Path2}\"",
        StepKind.Write => $"WRITE /{Path} @{Offset} \"{Escape(Encoding.UTF8.GetString(Data!))}\"",
        StepKind.Read => $"READ /{Path} @{Offset} size {Size}",
        StepKind.Mkdir or StepKind.Create or StepKind.Mknod or StepKind.Chmod => $"{Kind.ToString().ToUpperInvariant()} /{Path} mode=0{Convert.ToString(Mode, 8)}",
        StepKind.Truncate => $"TRUNCATE /{Path} to {Size}",
        StepKind.Open => $"OPEN /{Path} flags=0x{Flags:x}",
        _ => $"{Kind.ToString().ToUpperInvariant()} /{Path}",
    } + (ExpectErrno is int e ? $" (expect {(e == 0 ? "success" : ((VirtioFs.Backend.Interop.Errno)e).ToString())})" : "");

    internal static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\n", "\\n").Replace("\0", "\\0");
}
