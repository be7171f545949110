using VirtioFs.Backend.Share;
using VirtioFs.Tests.Hostile;
using VirtioFs.Tests.Share;
using Xunit;
using Xunit.Abstractions;

namespace VirtioFs.Tests.Fuzz;

/// <summary>
/// The short fuzzing pass of the default test run (20 s, a fixed seed so CI is reproducible). The long pass is
/// <c>scripts/fuzz.sh --seconds N [--seed S]</c>, which sets VIRTIOFS_FUZZ_SECONDS and VIRTIOFS_FUZZ_SEED. Besides the
/// harness's own checks: afterwards no fd or mapping is left over and nothing outside the share was touched.
/// </summary>
[Collection(ProcessWideCountsCollection.Name)]
public sealed class FuzzTests(ITestOutputHelper output)
{
    private const int DefaultSeed = 20250601;
    private const int DefaultSeconds = 20;

    private static int Setting(string name, int fallback)
        => int.TryParse(Environment.GetEnvironmentVariable(name), out int value) ? value : fallback;

    [Fact]
    public void RandomRequestsChainsAndMessagesNeverHangCrashOrLeak()
    {
        int seed = Setting("VIRTIOFS_FUZZ_SEED", DefaultSeed);
        int seconds = Setting("VIRTIOFS_FUZZ_SECONDS", DefaultSeconds);
        using var share = new ConfinedShare(xattr: true, clientTimeout: TimeSpan.FromSeconds(5));
        int fds = OpenFds();
        int mappings = GuestRamMappings();
        var harness = new FuzzHarness(share, seed);
        try
        {
            harness.Run(TimeSpan.FromSeconds(seconds));
        }
        finally
        {
            output.WriteLine(harness.Summary);
        }

        // A fresh frontend after everything: the share is back where it started.
        share.Frontend.Dispose();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (share.Host.State != ShareState.Listening && DateTime.UtcNow < deadline) Thread.Sleep(5);
        share.Connect();
        Assert.Equal(mappings, GuestRamMappings());
        Assert.Equal(fds, OpenFds());
        share.AssertConfined($"fuzz seed {seed}");
        output.WriteLine($"fds {fds} before and after; guest RAM mappings {mappings}; share log lines {share.Log.Count}, suppressed guest lines not counted here");
    }

    private static int OpenFds() => ProcessCounts.OpenFds();

    private static int GuestRamMappings() => ProcessCounts.GuestRamMappings();
}
