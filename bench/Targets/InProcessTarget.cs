using VirtioFs.Backend.Passthrough;
using VirtioFs.Backend.Share;

namespace VirtioFs.Bench.Targets;

/// <summary>Our share, run inside the benchmark process (as the PowerShell module runs it), so its counters are visible.</summary>
internal sealed class InProcessTarget(string name, int index, PreparedDirectory dir, string socketPath, int requestQueues, int threadPoolSize)
    : Target(name, index, requestQueues)
{
    private ShareHost? _host;

    public override bool IsOurs => true;
    public override string SocketPath => socketPath;
    public override ShareHost? Host => _host;
    public int ThreadPoolSize => threadPoolSize;

    public override void Start()
    {
        _host = new ShareHost(new ShareOptions
        {
            SharedDirectory = dir.Root,
            SocketPath = socketPath,
            RequestQueues = RequestQueues,
            ThreadPoolSize = threadPoolSize,
            Cache = CachePolicy.Never, // virtiofsd runs with cache=none: same reply flags and timeouts
            Name = Name,
        });
        _host.Start();
    }

    public override void Dispose()
    {
        base.Dispose();
        _host?.Dispose();
    }
}
