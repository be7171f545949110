using System.Diagnostics;
using VirtioFs.EndToEnd.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace VirtioFs.EndToEnd;

/// <summary>
/// The POSIX suite in a real guest, once against the C virtiofsd and once against virtiofs-host, each with xattrs,
/// POSIX locks and flock on. Every check compares the virtio-fs outcome with the same operations on a guest-local
/// tmpfs. Ours must pass at least as many checks as virtiofsd, every check virtiofsd passes, and every check except
/// the documented <see cref="PosixSuite.KnownGaps"/>.
/// </summary>
[Collection(GuestCollection.Name)]
public sealed class PosixSuiteTests(GuestImage guest, ITestOutputHelper output)
{
    private const string Tag = "e2e";
    private static readonly TimeSpan s_qemuTimeout = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan s_socketTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Posix_suite_passes_on_virtiofs_host_wherever_it_passes_on_the_C_virtiofsd()
    {
        var virtiofsd = DaemonUnderTest.CVirtiofsd with { LeadingArguments = [.. PosixSuite.DaemonOptions] };
        var ours = DaemonUnderTest.VirtiofsHost with { LeadingArguments = [.. DaemonUnderTest.VirtiofsHost.LeadingArguments, .. PosixSuite.DaemonOptions] };

        var reference = await RunAsync(virtiofsd);
        var result = await RunAsync(ours);

        var failures = new List<string>();
        failures.AddRange(reference.Problems.Select(p => "virtiofsd run: " + p));
        failures.AddRange(result.Problems.Select(p => "virtiofs-host run: " + p));

        var theirs = reference.Report.Checks.Where(c => c.Passed).Select(c => c.Name).ToHashSet();
        var mine = result.Report.Checks.Where(c => c.Passed).Select(c => c.Name).ToHashSet();
        output.WriteLine($"passed: virtiofs-host {mine.Count}, virtiofsd {theirs.Count} of {PosixSuite.ExpectedChecks.Count}");
        foreach (var name in PosixSuite.ExpectedChecks)
        {
            output.WriteLine($"  {name,-26} virtiofs-host {(mine.Contains(name) ? "PASS" : "FAIL")}   virtiofsd {(theirs.Contains(name) ? "PASS" : "FAIL")}");
        }

        if (mine.Count < theirs.Count)
        {
            failures.Add($"virtiofs-host passed {mine.Count} checks, virtiofsd {theirs.Count}");
        }

        foreach (var name in theirs.Except(mine))
        {
            failures.Add($"{name} passes on virtiofsd but fails on virtiofs-host: {Detail(result.Report, name)}");
        }

        foreach (var name in PosixSuite.ExpectedChecks.Where(n => !mine.Contains(n) && !PosixSuite.KnownGaps.ContainsKey(n)))
        {
            failures.Add($"{name} fails on virtiofs-host: {Detail(result.Report, name)}");
        }

        if (failures.Count > 0)
        {
            Assert.Fail($"{failures.Count} problem(s):{Environment.NewLine}" + string.Join(Environment.NewLine, failures.Select(f => "  - " + f)));
        }
    }

    private static string Detail(SerialReport report, string name) =>
        report.Checks.FirstOrDefault(c => c.Name == name)?.Detail ?? "(not reported)";

    private sealed record SuiteRun(SerialReport Report, List<string> Problems);

    private async Task<SuiteRun> RunAsync(DaemonUnderTest daemon)
    {
        var work = Directory.CreateTempSubdirectory("virtiofs-posix-");
        try
        {
            var clock = Stopwatch.StartNew();
            var share = Directory.CreateDirectory(Path.Combine(work.FullName, "share")).FullName;
            var socket = Path.Combine(work.FullName, "vhost-user.sock");
            using var daemonProcess = await RunningDaemon.StartAsync(daemon, socket, share, s_socketTimeout);
            var run = await GuestRun.BootAsync(new GuestBoot(guest.KernelPath, guest.InitrdPath, socket, Tag, PosixSuite.TestName), s_qemuTimeout);
            var daemonExit = await daemonProcess.StopAsync(TimeSpan.FromSeconds(10));

            output.WriteLine($"=== {daemon.Name} {string.Join(' ', daemon.Arguments(socket, share))}");
            output.WriteLine($"guest ran {run.Elapsed.TotalSeconds:F1} s (total {clock.Elapsed.TotalSeconds:F1} s); QEMU {(run.TimedOut ? "timed out" : $"exit code {run.ExitCode}")}");
            foreach (var line in run.SerialLines.Where(l => l.Contains("E2E ", StringComparison.Ordinal)))
            {
                output.WriteLine(line);
            }

            var problems = new List<string>();
            if (run.TimedOut)
            {
                problems.Add($"QEMU did not finish within {s_qemuTimeout.TotalSeconds} s{Environment.NewLine}{run.SerialTail}");
            }
            else if (run.ExitCode != 0)
            {
                problems.Add($"QEMU exited with code {run.ExitCode}");
            }

            if (daemonExit is { } code and not 0)
            {
                problems.Add($"{daemon.Name} exited with code {code}{Environment.NewLine}{daemonProcess.Process.Tail(30)}");
            }

            var report = SerialReport.Parse(run.SerialLines);
            problems.AddRange(report.Problems);
            if (report.DoneCount is null)
            {
                problems.Add($"the guest never printed 'E2E DONE'{Environment.NewLine}{run.SerialTail}");
            }

            // The suite must have run completely: every check reported (pass or fail), and the mount itself worked.
            var missing = PosixSuite.ExpectedChecks.Where(n => report.Checks.All(c => c.Name != n)).ToArray();
            if (missing.Length > 0)
            {
                problems.Add($"checks not reported: {string.Join(", ", missing)}");
            }

            foreach (var name in new[] { "modules", "mount", "umount" })
            {
                if (report.Checks.FirstOrDefault(c => c.Name == name) is { Passed: false } check)
                {
                    problems.Add($"{name} failed: {check.Detail}");
                }
            }

            return new SuiteRun(report, problems);
        }
        finally
        {
            try
            {
                work.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
