using System.Diagnostics;
using VirtioFs.EndToEnd.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace VirtioFs.EndToEnd;

/// <summary>
/// QEMU (TCG) boots the Debian guest kernel, mounts a share served by the daemon under test and runs
/// guest/basic.sh; the host then asserts every guest check and inspects what the guest wrote. One test per daemon.
/// </summary>
[Collection(GuestCollection.Name)]
public sealed class BasicSuiteTests(GuestImage guest, ITestOutputHelper output)
{
    private const string Tag = "e2e";

    // About 20 s on an idle 2-core machine; generous for a busy one, and a hung guest still fails in minutes.
    private static readonly TimeSpan s_qemuTimeout = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan s_socketTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public Task Basic_suite_passes_with_the_C_virtiofsd() => RunBasicSuiteAsync(DaemonUnderTest.CVirtiofsd);

    [Fact]
    public Task Basic_suite_passes_with_virtiofs_host() => RunBasicSuiteAsync(DaemonUnderTest.VirtiofsHost);

    private async Task RunBasicSuiteAsync(DaemonUnderTest daemon)
    {
        var work = Directory.CreateTempSubdirectory("virtiofs-e2e-");
        var keep = Environment.GetEnvironmentVariable("VIRTIOFS_E2E_KEEP") == "1";
        try
        {
            var clock = Stopwatch.StartNew();
            var share = Directory.CreateDirectory(Path.Combine(work.FullName, "share")).FullName;
            var socket = Path.Combine(work.FullName, "vhost-user.sock");
            var hostBigSha = BasicSuite.PrepareShare(share);
            var prepared = clock.Elapsed;

            using var daemonProcess = await RunningDaemon.StartAsync(daemon, socket, share, s_socketTimeout);
            var run = await GuestRun.BootAsync(new GuestBoot(guest.KernelPath, guest.InitrdPath, socket, Tag, BasicSuite.TestName), s_qemuTimeout);
            var daemonExit = await daemonProcess.StopAsync(TimeSpan.FromSeconds(10));

            output.WriteLine($"daemon: {daemon.Name} {string.Join(' ', daemon.Arguments(socket, share))}");
            output.WriteLine($"share prepared in {prepared.TotalSeconds:F1} s; guest ran {run.Elapsed.TotalSeconds:F1} s; " +
                $"QEMU {(run.TimedOut ? "timed out" : $"exit code {run.ExitCode}")}; daemon {(daemonExit is { } code ? $"exit code {code}" : "killed after the guest")}");
            output.WriteLine("--- serial console ---");
            foreach (var line in run.SerialLines)
            {
                output.WriteLine(line);
            }

            output.WriteLine("--- " + daemonProcess.Process.Tail(80));

            var failures = new List<string>();
            if (run.TimedOut)
            {
                failures.Add($"QEMU did not finish within {s_qemuTimeout.TotalSeconds} s and was killed (a hung guest or daemon)");
            }
            else if (run.ExitCode != 0)
            {
                failures.Add($"QEMU exited with code {run.ExitCode}");
            }

            if (daemonExit is { } exitCode and not 0)
            {
                failures.Add($"{daemon.Name} exited with code {exitCode}");
            }

            var report = SerialReport.Parse(run.SerialLines);
            failures.AddRange(report.Failures(BasicSuite.ExpectedChecks, BasicSuite.ExpectedValues));
            if (report.DoneCount is not null)
            {
                failures.AddRange(BasicSuite.VerifyHostSide(share, report, hostBigSha));
            }

            if (failures.Count > 0)
            {
                Assert.Fail(
                    $"{failures.Count} problem(s) with {daemon.Name}:{Environment.NewLine}" +
                    string.Join(Environment.NewLine, failures.Select(f => "  - " + f)) + Environment.NewLine +
                    run.SerialTail + Environment.NewLine + daemonProcess.Process.Tail(30));
            }
        }
        finally
        {
            if (keep)
            {
                output.WriteLine($"kept {work.FullName} (VIRTIOFS_E2E_KEEP=1)");
            }
            else
            {
                work.Delete(recursive: true);
            }
        }
    }
}
