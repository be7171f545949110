using System.Diagnostics;
using System.Security.Cryptography;
using VirtioFs.EndToEnd.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace VirtioFs.EndToEnd;

/// <summary>
/// virtiofs-host outlives its front-ends: QEMU is SIGKILLed in the middle of a guest's heavy I/O (guest/stress.sh)
/// a few times, then a guest reboots with the share mounted (guest/stress_reboot.sh; -no-reboot ends QEMU), and
/// finally a fresh QEMU mounts the same share and works (guest/stress_verify.sh). After every loss the daemon logs
/// the disconnect, unmaps guest RAM, and its fd count returns to where it was; it never exits.
/// </summary>
[Collection(GuestCollection.Name)]
public sealed class RobustnessTests(GuestImage guest, ITestOutputHelper output)
{
    private const string Tag = "e2e";
    private const int Kills = 3;
    private static readonly TimeSpan s_bootTimeout = TimeSpan.FromMinutes(3);

    private static readonly IReadOnlyList<string> s_verifyChecks =
        ["modules", "mount", "verify_reboot_file", "verify_write", "verify_list", "umount"];

    [Fact]
    public async Task Virtiofs_host_survives_QEMU_kills_mid_io_and_a_guest_reboot()
    {
        var work = Directory.CreateTempSubdirectory("virtiofs-e2e-robust-");
        try
        {
            string share = Directory.CreateDirectory(Path.Combine(work.FullName, "share")).FullName;
            string socket = Path.Combine(work.FullName, "vhost-user.sock");
            byte[] kept = RandomNumberGenerator.GetBytes(4 << 20);
            File.WriteAllBytes(Path.Combine(share, "kept.bin"), kept);
            string keptSha = Convert.ToHexString(SHA256.HashData(kept)).ToLowerInvariant();

            using var daemon = await RunningDaemon.StartAsync(DaemonUnderTest.VirtiofsHost, socket, share, TimeSpan.FromSeconds(60));
            int pid = daemon.Process.Id;
            output.WriteLine($"daemon pid {pid}, idle: {DaemonResources.Of(pid)}");
            var afterLosses = new List<DaemonResources>();
            var clock = Stopwatch.StartNew();

            for (int kill = 1; kill <= Kills; kill++)
            {
                using var qemu = ChildProcess.Start($"qemu (kill {kill})", GuestBoot.QemuBinary,
                    new GuestBoot(guest.KernelPath, guest.InitrdPath, socket, Tag, "stress").QemuArguments());
                if (!await WaitForAsync(() => qemu.Lines.Any(l => l.Contains("E2E INFO stress-io-running", StringComparison.Ordinal)), s_bootTimeout))
                {
                    Assert.Fail($"the stress guest never started its I/O (kill {kill}){Environment.NewLine}{qemu.Tail(40)}{Environment.NewLine}{daemon.Process.Tail(20)}");
                }
                await Task.Delay(TimeSpan.FromSeconds(1.5));   // let dd run
                var busy = DaemonResources.Of(pid);
                qemu.Kill();   // SIGKILL, like the OOM killer or a crashed QEMU
                Assert.True(await WaitForAsync(() => Disconnects(daemon) >= kill, TimeSpan.FromSeconds(30)),
                    $"the daemon did not notice QEMU's death (kill {kill}){Environment.NewLine}{daemon.Process.Tail(20)}");
                await Task.Delay(200);
                var after = DaemonResources.Of(pid);
                afterLosses.Add(after);
                output.WriteLine($"kill {kill}: busy {busy}; after {after}");
                Assert.False(daemon.Process.HasExited, $"the daemon exited after kill {kill}{Environment.NewLine}{daemon.Process.Tail(30)}");
                Assert.True(busy.GuestRamKiB > 0, "no guest RAM mapped while the guest ran: the measurement is broken");
                Assert.Equal(0, after.GuestRamKiB);
            }

            var reboot = await GuestRun.BootAsync(new GuestBoot(guest.KernelPath, guest.InitrdPath, socket, Tag, "stress_reboot"), s_bootTimeout);
            Assert.False(reboot.TimedOut, $"the rebooting guest did not end QEMU{Environment.NewLine}{reboot.SerialTail}");
            Assert.Contains(reboot.SerialLines, l => l.Contains("E2E INFO rebooting", StringComparison.Ordinal));
            Assert.Contains(SerialReport.Parse(reboot.SerialLines).Checks, c => c.Name == "reboot_write" && c.Passed);
            Assert.True(await WaitForAsync(() => Disconnects(daemon) >= Kills + 1, TimeSpan.FromSeconds(30)), daemon.Process.Tail(20));
            await Task.Delay(200);
            var afterReboot = DaemonResources.Of(pid);
            output.WriteLine($"after the guest reboot: {afterReboot}");

            var verify = await GuestRun.BootAsync(new GuestBoot(guest.KernelPath, guest.InitrdPath, socket, Tag, "stress_verify"), s_bootTimeout);
            var report = SerialReport.Parse(verify.SerialLines);
            var failures = report.Failures(s_verifyChecks, ["kept_sha256"]);
            if (report.Values.TryGetValue("kept_sha256", out string? sha) && sha != keptSha) failures.Add($"kept.bin reads as {sha} in the guest, {keptSha} on the host");
            if (verify.TimedOut || verify.ExitCode != 0) failures.Add($"QEMU {(verify.TimedOut ? "timed out" : $"exit code {verify.ExitCode}")}");
            Assert.True(await WaitForAsync(() => Disconnects(daemon) >= Kills + 2, TimeSpan.FromSeconds(30)), daemon.Process.Tail(20));
            await Task.Delay(200);
            var final = DaemonResources.Of(pid);
            output.WriteLine($"after the verifying guest: {final}; {clock.Elapsed.TotalSeconds:F0} s in all");
            output.WriteLine("--- " + daemon.Process.Tail(25));

            if (failures.Count > 0) Assert.Fail(string.Join(Environment.NewLine, failures) + Environment.NewLine + verify.SerialTail);
            Assert.Equal("after the storms\n", File.ReadAllText(Path.Combine(share, "after.txt")));
            Assert.False(daemon.Process.HasExited);
            Assert.Equal(0, final.GuestRamKiB);
            // The first loss warms the daemon up (JIT, thread pool); from then on every connection gives back all it took.
            Assert.Equal(afterLosses[0].Fds, afterReboot.Fds);
            Assert.Equal(afterLosses[0].Fds, final.Fds);
            Assert.All(afterLosses, a => Assert.Equal(afterLosses[0].Fds, a.Fds));
            Assert.DoesNotContain(daemon.Process.Lines, l => l.Contains("ERROR", StringComparison.Ordinal));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static int Disconnects(RunningDaemon daemon) =>
        daemon.Process.Lines.Count(l => l.Contains("front-end disconnected", StringComparison.Ordinal) || l.Contains("connection failed and was closed", StringComparison.Ordinal));

    private static async Task<bool> WaitForAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(100);
        }
        return true;
    }

    /// <summary>What the daemon holds: open fds, guest RAM mapped from QEMU's memfd, RSS.</summary>
    private readonly record struct DaemonResources(int Fds, long GuestRamKiB, long RssKiB)
    {
        public static DaemonResources Of(int pid)
        {
            long guestRam = 0;
            foreach (string line in File.ReadLines($"/proc/{pid}/maps"))
            {
                // QEMU names the memfd after its backend type (memory-backend-memfd); .NET has memfds of its own.
                if (!line.Contains("/memfd:memory-backend-memfd", StringComparison.Ordinal)) continue;
                string[] range = line.Split(' ')[0].Split('-');
                guestRam += (Convert.ToInt64(range[1], 16) - Convert.ToInt64(range[0], 16)) / 1024;
            }
            string rss = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return new DaemonResources(Directory.GetFiles($"/proc/{pid}/fd").Length, guestRam, long.Parse(rss[6..].Trim().Split(' ')[0]));
        }

        public override string ToString() => $"{Fds} fds, {GuestRamKiB / 1024} MiB guest RAM mapped, RSS {RssKiB / 1024} MiB";
    }
}
