using System.Runtime.CompilerServices;
using System.Text;

namespace VirtioFs.Tests.Fuse;

/// <summary>Builds the argument bytes of a raw FUSE request: structs, NUL-terminated names, raw bytes.</summary>
internal sealed class ArgsBuilder
{
    private readonly List<byte> _bytes = new();

    public ArgsBuilder Add<T>(T value) where T : unmanaged
    {
        var bytes = new byte[Unsafe.SizeOf<T>()];
        Unsafe.WriteUnaligned(ref bytes[0], value);
        _bytes.AddRange(bytes);
        return this;
    }

    /// <summary>A name with its NUL terminator.</summary>
    public ArgsBuilder Name(string name)
    {
        _bytes.AddRange(Encoding.UTF8.GetBytes(name));
        _bytes.Add(0);
        return this;
    }

    public ArgsBuilder Raw(ReadOnlySpan<byte> bytes)
    {
        _bytes.AddRange(bytes.ToArray());
        return this;
    }

    public byte[] ToArray() => _bytes.ToArray();

    public static implicit operator byte[](ArgsBuilder builder) => builder.ToArray();
}
