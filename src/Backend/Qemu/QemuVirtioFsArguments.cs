namespace VirtioFs.Backend.Qemu;

/// <summary>
/// QEMU arguments for virtio-fs, one argv element per item: in PowerShell <c>&amp; qemu-system-x86_64 @a</c> with
/// <c>$a = $x.Arguments</c>, in C# a ProcessStartInfo.ArgumentList. <see cref="ToString"/> is the same line quoted for
/// a POSIX shell, for scripts and logs.
/// </summary>
public sealed class QemuVirtioFsArguments
{
    internal QemuVirtioFsArguments(string[] arguments, IReadOnlyList<QemuVirtioFsDevice> devices, ulong memorySize)
    {
        Arguments = arguments;
        Devices = devices;
        MemorySize = memorySize;
    }

    /// <summary>The arguments, unquoted (each is one argv element).</summary>
    public string[] Arguments { get; }

    /// <summary>The devices these arguments describe.</summary>
    public IReadOnlyList<QemuVirtioFsDevice> Devices { get; }

    /// <summary>Guest RAM in bytes (the -m value).</summary>
    public ulong MemorySize { get; }

    /// <summary>The arguments as one POSIX-shell line: words with special characters are single-quoted.</summary>
    public override string ToString() => string.Join(' ', Arguments.Select(ShellQuoting.Quote));
}
