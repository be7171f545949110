using System.Diagnostics;

namespace VirtioFs.EndToEnd.Infrastructure;

/// <summary>What one QEMU run left behind: the serial console, how it ended, how long it took.</summary>
internal sealed record GuestRun(IReadOnlyList<string> SerialLines, bool TimedOut, int? ExitCode, TimeSpan Elapsed, string SerialTail)
{
    /// <summary>
    /// Boots <paramref name="boot"/> and waits for the guest to power off. After <paramref name="timeout"/> QEMU is
    /// killed and the run is marked <see cref="TimedOut"/>: a hung guest must fail the test, not hang it.
    /// </summary>
    public static async Task<GuestRun> BootAsync(GuestBoot boot, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        using var qemu = ChildProcess.Start("qemu serial console", GuestBoot.QemuBinary, boot.QemuArguments());
        var exited = await qemu.WaitForExitAsync(timeout);
        if (!exited)
        {
            qemu.Kill();
        }

        return new GuestRun(qemu.Lines, !exited, exited ? qemu.ExitCode : null, clock.Elapsed, qemu.Tail(60));
    }
}
