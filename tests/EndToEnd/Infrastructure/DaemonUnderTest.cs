namespace VirtioFs.EndToEnd.Infrastructure;

/// <summary>
/// A vhost-user virtio-fs backend the suite can run against. Both take virtiofsd's command line:
/// <c>--socket-path=SOCK -o source=DIR -o cache=auto</c>.
/// </summary>
internal sealed record DaemonUnderTest(string Name, string FileName, IReadOnlyList<string> LeadingArguments)
{
    /// <summary>The C virtiofsd Debian ships with QEMU 7.2: the reference the harness is proven with.</summary>
    public static DaemonUnderTest CVirtiofsd { get; } = new("virtiofsd", "/usr/lib/qemu/virtiofsd", []);

    /// <summary>Our daemon, src/Host, from the same build configuration as this test assembly, run with dotnet.</summary>
    public static DaemonUnderTest VirtiofsHost { get; } = new(
        "virtiofs-host",
        "dotnet",
        [Path.Combine(RepoRoot.Path, "src", "Host", "bin", BuildInfo.Configuration, "net8.0", "virtiofs-host.dll")]);

    public IReadOnlyList<string> Arguments(string socketPath, string sourceDirectory) =>
        [.. LeadingArguments, $"--socket-path={socketPath}", "-o", $"source={sourceDirectory}", "-o", "cache=auto"];

    /// <summary>Why this daemon cannot start at all (a missing binary), or null.</summary>
    public string? MissingPrerequisite()
    {
        var binary = FileName == "dotnet" ? LeadingArguments[0] : FileName;
        return File.Exists(binary) ? null : $"{Name}: {binary} does not exist (not built or not installed).";
    }
}
