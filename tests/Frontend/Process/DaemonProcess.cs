using System.Diagnostics;
using System.Text;
using VirtioFs.Frontend.Interop;

namespace VirtioFs.Frontend;

/// <summary>
/// A backend daemon run for a test: started with its arguments, considered ready once its socket is listening (read
/// from /proc/net/unix, because connecting to probe would use up virtiofsd's only connection), its stdout and stderr
/// collected into <see cref="Log"/>, and stopped with SIGTERM then SIGKILL on <see cref="Dispose"/>.
/// </summary>
public sealed class DaemonProcess : IDisposable
{
    public const string VirtiofsdPath = "/usr/lib/qemu/virtiofsd";
    public static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromSeconds(15);

    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private bool _disposed;

    private DaemonProcess(Process process, string socketPath, string description)
    {
        _process = process;
        SocketPath = socketPath;
        Description = description;
    }

    public string SocketPath { get; }
    /// <summary>The command line, for messages.</summary>
    public string Description { get; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Everything the daemon wrote to stdout and stderr so far.</summary>
    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    /// <summary>The C virtiofsd of QEMU 7.2 with <c>-o cache=none</c> unless <paramref name="extraArgs"/> say otherwise.</summary>
    public static DaemonProcess StartVirtiofsd(string sharedDir, string socketPath, params string[] extraArgs)
    {
        if (!File.Exists(VirtiofsdPath)) throw new FileNotFoundException($"virtiofsd not installed at {VirtiofsdPath} (apt-get install qemu-system-x86)");
        var args = new List<string> { $"--socket-path={socketPath}", "-o", $"source={sharedDir}" };
        if (!extraArgs.Any(a => a.StartsWith("cache=", StringComparison.Ordinal))) args.AddRange(["-o", "cache=none"]);
        args.AddRange(extraArgs);
        return Start(VirtiofsdPath, args, socketPath, DefaultStartTimeout);
    }

    /// <summary>
    /// Our virtiofs-host from src/Host/bin/&lt;Configuration&gt;/net8.0/virtiofs-host.dll, run with dotnet, with the same
    /// <c>--socket-path=</c> and <c>-o source=</c> options as virtiofsd.
    /// </summary>
    public static DaemonProcess StartOurs(string sharedDir, string socketPath, params string[] extraArgs)
    {
        string dll = LocateOurHost();
        var args = new List<string> { dll, $"--socket-path={socketPath}", "-o", $"source={sharedDir}" };
        args.AddRange(extraArgs);
        return Start(DotnetHost(), args, socketPath, DefaultStartTimeout);
    }

    /// <summary>Starts any daemon and waits until <paramref name="socketPath"/> is listening.</summary>
    public static DaemonProcess Start(string fileName, IEnumerable<string> args, string socketPath, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string a in args) info.ArgumentList.Add(a);
        string description = fileName + " " + string.Join(' ', info.ArgumentList);
        var process = new Process { StartInfo = info };
        var daemon = new DaemonProcess(process, socketPath, description);
        process.ErrorDataReceived += (_, e) => daemon.Append(e.Data);
        process.OutputDataReceived += (_, e) => daemon.Append(e.Data);
        if (!process.Start()) throw new InvalidOperationException($"could not start {description}");
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            daemon.WaitListening(timeout);
            return daemon;
        }
        catch
        {
            daemon.Dispose();
            throw;
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
    }

    private void WaitListening(TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!IsListening(SocketPath))
        {
            if (_process.HasExited)
            {
                _process.WaitForExit(); // flush the output readers
                throw new InvalidOperationException(
                    $"daemon exited with code {_process.ExitCode} before listening on {SocketPath}\ncommand: {Description}\nlog:\n{Log}");
            }
            if (Environment.TickCount64 >= deadline)
                throw new TimeoutException($"daemon not listening on {SocketPath} after {timeout.TotalSeconds:0} s\ncommand: {Description}\nlog:\n{Log}");
            Thread.Sleep(20);
        }
    }

    /// <summary>Whether some process has a listening UNIX socket bound to <paramref name="path"/> (per /proc/net/unix).</summary>
    public static bool IsListening(string path)
    {
        const uint SoAcceptCon = 0x10000; // __SO_ACCEPTCON in the Flags column
        foreach (string line in File.ReadLines("/proc/net/unix").Skip(1))
        {
            // Num RefCount Protocol Flags Type St Inode Path
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 8 || f[7] != path) continue;
            if ((Convert.ToUInt32(f[3], 16) & SoAcceptCon) != 0) return true;
        }
        return false;
    }

    /// <summary>Waits for the daemon to exit on its own (e.g. after the frontend disconnected).</summary>
    public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

    /// <summary>Walks up from the test binaries to the folder holding VirtioFs.slnx.</summary>
    public static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VirtioFs.slnx"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException($"no VirtioFs.slnx above {AppContext.BaseDirectory}");
    }

    private static string LocateOurHost()
    {
        string root = FindRepositoryRoot();
        string? wanted = Environment.GetEnvironmentVariable("VIRTIOFS_HOST_CONFIGURATION");
#if DEBUG
        string own = "Debug";
#else
        string own = "Release";
#endif
        string[] configurations = wanted is not null ? [wanted] : [own, own == "Debug" ? "Release" : "Debug"];
        foreach (string configuration in configurations)
        {
            string dll = Path.Combine(root, "src", "Host", "bin", configuration, "net8.0", "virtiofs-host.dll");
            if (File.Exists(dll)) return dll;
        }
        throw new FileNotFoundException(
            $"virtiofs-host is not built: no src/Host/bin/{{{string.Join(',', configurations)}}}/net8.0/virtiofs-host.dll under {root}. "
            + $"Run: dotnet build {Path.Combine(root, "src", "Host")} -c {configurations[0]}");
    }

    private static string DotnetHost()
    {
        string? fromHost = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromHost) && File.Exists(fromHost)) return fromHost;
        string? root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        if (!string.IsNullOrEmpty(root) && File.Exists(Path.Combine(root, "dotnet"))) return Path.Combine(root, "dotnet");
        return "dotnet";
    }

    /// <summary>SIGTERM, up to 3 s grace, then SIGKILL of the whole tree.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            if (!_process.HasExited)
            {
                FrontendLibc.kill(_process.Id, FrontendLibc.SIGTERM);
                if (!_process.WaitForExit(TimeSpan.FromSeconds(3)))
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit(TimeSpan.FromSeconds(5));
                }
            }
            _process.WaitForExit(TimeSpan.FromSeconds(1)); // drain output
        }
        catch (InvalidOperationException)
        {
            // never started or already reaped
        }
        finally
        {
            _process.Dispose();
        }
    }
}
