using System.Runtime.InteropServices;
using VirtioFs.Backend.Share;

namespace VirtioFs.Host;

/// <summary>virtiofs-host: one share from the command line, where PowerShell is absent.</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        HostCommandLine line;
        try
        {
            line = HostCommandLine.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"virtiofs-host: {e.Message}");
            return 2;
        }
        if (line.Help)
        {
            Console.Out.Write(HelpText.Text);
            return 0;
        }
        if (line.Version)
        {
            Console.Out.WriteLine($"virtiofs-host {typeof(Program).Assembly.GetName().Version?.ToString(3)}");
            return 0;
        }
        if (line.PrintCapabilities)
        {
            // vhost-user.rst "Backend program conventions"; libvirt reads these two features.
            Console.Out.WriteLine("{\n  \"type\": \"fs\",\n  \"features\": [\n    \"separate-options\"\n  ]\n}");
            return 0;
        }

        var log = new ShareLog(WriteLog, line.LogLevel);
        foreach (string note in line.Notes) log.Warning(note);
        ShareHost share;
        try
        {
            share = new ShareHost(line.ToShareOptions(), log);
            share.Start();
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"virtiofs-host: {e.Message}");
            return 1;
        }

        // Exit promptly on SIGTERM/SIGINT (vhost-user.rst), after releasing everything.
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; share.Stop(); });
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; share.Stop(); });
        log.Info("Waiting for vhost-user socket connection...");
        share.Wait(Timeout.InfiniteTimeSpan);
        share.Dispose();
        return share.State == ShareState.Failed ? 1 : 0;
    }

    private static readonly object LogLock = new();

    private static void WriteLog(ShareLogLevel level, string message)
    {
        string tag = level switch
        {
            ShareLogLevel.Error => "ERROR",
            ShareLogLevel.Warning => "WARN ",
            ShareLogLevel.Info => "INFO ",
            _ => "DEBUG",
        };
        lock (LogLock) Console.Error.WriteLine($"[{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {tag} virtiofs-host] {message}");
    }
}
