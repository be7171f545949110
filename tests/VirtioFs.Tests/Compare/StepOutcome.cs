using System.Text;
using VirtioFs.Backend.Interop;
using VirtioFs.Frontend.Fuse;

namespace VirtioFs.Tests.Compare;

/// <summary>
/// The normalized result of one step: what two correct backends must agree on. Inode numbers, node ids, file handles
/// and times are deliberately absent. Two outcomes are equal when their <see cref="ToString"/> texts are.
/// </summary>
public sealed record StepOutcome
{
    public int Errno { get; init; }
    public string? Type { get; init; }
    public uint? Mode { get; init; }
    public ulong? Size { get; init; }
    public uint? Nlink { get; init; }
    public string? LinkTarget { get; init; }
    public string[]? Names { get; init; }
    public byte[]? Data { get; init; }
    public ulong? Count { get; init; }
    public string? Extra { get; init; }

    public static StepOutcome Failed(int errno) => new() { Errno = errno };

    public static StepOutcome FromAttr(FuseAttr a) => new()
    {
        Type = FuseAttr.TypeName(a.Mode),
        Mode = a.Permissions,
        // Directory sizes are file-system bookkeeping, but both copies live on the same file system, so they must agree.
        Size = a.Size,
        Nlink = a.Nlink,
    };

    public override string ToString()
    {
        var b = new StringBuilder(Errno == 0 ? "ok" : ((Errno)Errno).ToString());
        if (Type is not null) b.Append(" type=").Append(Type);
        if (Mode is uint m) b.Append(" mode=0").Append(Convert.ToString(m, 8));
        if (Size is ulong s) b.Append(" size=").Append(s);
        if (Nlink is uint n) b.Append(" nlink=").Append(n);
        if (Count is ulong c) b.Append(" count=").Append(c);
        if (LinkTarget is not null) b.Append(" target=\"").Append(Step.Escape(LinkTarget)).Append('"');
        if (Names is not null) b.Append(" names=[").Append(string.Join(", ", Names)).Append(']');
        if (Data is not null) b.Append(" data=").Append(DescribeData(Data));
        if (Extra is not null) b.Append(' ').Append(Extra);
        return b.ToString();
    }

    private static string DescribeData(byte[] data)
    {
        bool printable = data.All(x => x is >= 0x20 and < 0x7F or (byte)'\n');
        if (printable) return $"\"{Step.Escape(Encoding.ASCII.GetString(data))}\"";
        string hex = Convert.ToHexString(data.AsSpan(0, Math.Min(data.Length, 16)));
        return $"{data.Length} bytes {hex}{(data.Length > 16 ? "..." : "")} sha256={Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(data))[..16]}";
    }
}
