using VirtioFs.Backend.Share;
using VirtioFs.Bench.Driver;
using VirtioFs.Bench.Workloads;
using VirtioFs.Frontend;
using VirtioFs.Frontend.Fuse;

namespace VirtioFs.Bench.Targets;

/// <summary>
/// A daemon under test plus our frontend connected to it: the handshake, INIT, the files every workload needs looked
/// up and opened once, and one pipelined client per request queue. The connection lives for the whole benchmark
/// (the C virtiofsd exits when its frontend goes away).
/// </summary>
internal abstract class Target : IDisposable
{
    /// <summary>Slots per request queue: the deepest run.</summary>
    public const int MaxDepth = 16;

    protected Target(string name, int index, int requestQueues)
    {
        Name = name;
        Index = index;
        RequestQueues = requestQueues;
    }

    public string Name { get; }
    public int Index { get; }
    public int RequestQueues { get; }
    public abstract bool IsOurs { get; }
    public abstract string SocketPath { get; }

    /// <summary>The in-process share, whose statistics and allocations we can see; null for a separate process.</summary>
    public virtual ShareHost? Host => null;

    public VhostUserFrontend Frontend { get; private set; } = null!;
    public FuseClient Sync { get; private set; } = null!;
    public SessionSetup Setup { get; private set; } = null!;
    public PipelinedClient[] Clients { get; private set; } = [];

    public abstract void Start();

    public void Connect(PreparedDirectory dir)
    {
        Frontend = VhostUserFrontend.Connect(SocketPath,
            new FrontendOptions { RequestQueues = RequestQueues, MemorySize = (16UL << 20) + (ulong)RequestQueues * (24UL << 20) },
            TimeSpan.FromSeconds(15));
        Sync = new FuseClient(Frontend, 1, new FuseClientOptions { MaxPayload = 64 << 10, MaxInFlight = 1 });
        Check(Sync.Init(out _), "INIT");
        Check(Sync.Lookup(FuseConstants.RootNodeId, PreparedDirectory.BigFile, out FuseEntry big), "LOOKUP big file");
        Check(Sync.Open(big.NodeId, FuseConstants.O_RDONLY, out FuseOpenOut bigOpen), "OPEN big file");
        Check(Sync.Lookup(FuseConstants.RootNodeId, PreparedDirectory.WriteFile, out FuseEntry wr), "LOOKUP write file");
        Check(Sync.Open(wr.NodeId, FuseConstants.O_RDWR, out FuseOpenOut wrOpen), "OPEN write file");
        Check(Sync.Lookup(FuseConstants.RootNodeId, PreparedDirectory.ListDir, out FuseEntry list), "LOOKUP list dir");
        Check(Sync.Lookup(FuseConstants.RootNodeId, PreparedDirectory.CreateDir, out FuseEntry create), "LOOKUP create dir");
        Setup = new SessionSetup(big.NodeId, bigOpen.Fh, dir.BigFileSize, wr.NodeId, wrOpen.Fh, dir.WriteFileSize,
            list.NodeId, dir.ListEntries, create.NodeId, Index);
        var hiprio = new HiprioSender(Frontend);
        Clients = new PipelinedClient[RequestQueues];
        for (int q = 0; q < RequestQueues; q++)
            Clients[q] = new PipelinedClient(Frontend, q + 1, hiprio, MaxDepth, RequestSlot.Page, 1 << 20);
    }

    private void Check(int errno, string what)
    {
        if (errno != 0) throw new InvalidOperationException($"{Name}: {what} failed with errno {errno}");
    }

    /// <summary>The daemon's process id for memory figures (null: it runs inside this process).</summary>
    public virtual int? DaemonPid => null;

    public virtual void Dispose()
    {
        Frontend?.Dispose();
    }
}
