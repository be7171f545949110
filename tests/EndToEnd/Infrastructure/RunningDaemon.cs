namespace VirtioFs.EndToEnd.Infrastructure;

/// <summary>A daemon under test serving one directory on one socket; disposing stops it.</summary>
internal sealed class RunningDaemon : IDisposable
{
    private readonly ChildProcess _process;

    private RunningDaemon(ChildProcess process)
    {
        _process = process;
    }

    public ChildProcess Process => _process;

    /// <summary>
    /// Starts <paramref name="daemon"/> and waits until its socket exists. Throws, with what the daemon printed,
    /// when it exits first or the socket does not appear in time. Never connects to probe: virtiofsd serves one
    /// connection only, and that one belongs to QEMU.
    /// </summary>
    public static async Task<RunningDaemon> StartAsync(DaemonUnderTest daemon, string socketPath, string sourceDirectory, TimeSpan timeout)
    {
        if (daemon.MissingPrerequisite() is { } missing)
        {
            throw new InvalidOperationException(missing);
        }

        var process = ChildProcess.Start(daemon.Name, daemon.FileName, daemon.Arguments(socketPath, sourceDirectory));
        var deadline = DateTime.UtcNow + timeout;
        while (!File.Exists(socketPath))
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync(TimeSpan.FromSeconds(5));
                var message = $"{daemon.Name} exited with code {process.ExitCode} before creating {socketPath}.{Environment.NewLine}{process.Tail(40)}";
                process.Dispose();
                throw new InvalidOperationException(message);
            }

            if (DateTime.UtcNow > deadline)
            {
                process.Dispose();
                throw new TimeoutException($"{daemon.Name} did not create {socketPath} within {timeout.TotalSeconds} s.{Environment.NewLine}{process.Tail(40)}");
            }

            await Task.Delay(50);
        }

        return new RunningDaemon(process);
    }

    /// <summary>
    /// After the guest is gone: gives the daemon <paramref name="grace"/> to exit on its own (virtiofsd does when
    /// QEMU disconnects), then kills it. Returns its exit code, or null when it had to be killed.
    /// </summary>
    public async Task<int?> StopAsync(TimeSpan grace)
    {
        if (await _process.WaitForExitAsync(grace))
        {
            return _process.ExitCode;
        }

        _process.Kill();
        return null;
    }

    public void Dispose() => _process.Dispose();
}
