using VirtioFs.Frontend;

namespace VirtioFs.Bench.Targets;

/// <summary>A daemon in its own process: the C virtiofsd, or our standalone virtiofs-host.</summary>
internal sealed class DaemonTarget(string name, int index, bool ours, Func<DaemonProcess> start, string socketPath)
    : Target(name, index, 1)
{
    private DaemonProcess? _process;

    public override bool IsOurs => ours;
    public override string SocketPath => socketPath;

    public override int? DaemonPid => _process is null ? null : ProcessTree.Deepest(_process.ProcessId);

    public override void Start() => _process = start();

    public string Log => _process?.Log ?? "";

    public override void Dispose()
    {
        base.Dispose();
        _process?.Dispose();
    }
}
