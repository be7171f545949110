using Xunit;

namespace VirtioFs.EndToEnd.Infrastructure;

/// <summary>
/// The guest kernel and initramfs, built (or taken from the cache) by scripts/prepare-guest.sh once per test run
/// and shared by every test in the <see cref="GuestCollection"/>.
/// </summary>
public sealed class GuestImage : IAsyncLifetime
{
    // A fresh machine downloads about 70 MB and may install packages first.
    private static readonly TimeSpan s_prepareTimeout = TimeSpan.FromMinutes(8);

    public string KernelPath { get; private set; } = "";

    public string InitrdPath { get; private set; } = "";

    /// <summary>What prepare-guest.sh printed, for the test log.</summary>
    public string PrepareLog { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var script = Path.Combine(RepoRoot.Path, "scripts", "prepare-guest.sh");
        using var prepare = ChildProcess.Start("prepare-guest.sh", "bash", [script], RepoRoot.Path);
        if (!await prepare.WaitForExitAsync(s_prepareTimeout))
        {
            prepare.Kill();
            throw new InvalidOperationException(
                $"{script} did not finish within {s_prepareTimeout.TotalMinutes} minutes.{Environment.NewLine}{prepare.Tail(40)}");
        }

        PrepareLog = string.Join(Environment.NewLine, prepare.Lines);
        if (prepare.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} failed with exit code {prepare.ExitCode}.{Environment.NewLine}{prepare.Tail(40)}");
        }

        KernelPath = Output(prepare, "GUEST_KERNEL=");
        InitrdPath = Output(prepare, "GUEST_INITRD=");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static string Output(ChildProcess prepare, string prefix)
    {
        var path = prepare.Lines.LastOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..];
        if (path is null || !File.Exists(path))
        {
            throw new InvalidOperationException($"prepare-guest.sh printed no existing {prefix}<path>.{Environment.NewLine}{prepare.Tail(40)}");
        }

        return path;
    }
}
