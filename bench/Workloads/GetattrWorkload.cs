using VirtioFs.Bench.Driver;
using VirtioFs.Frontend.Fuse;

namespace VirtioFs.Bench.Workloads;

/// <summary>GETATTR of the root: the cheapest request there is, so it measures the daemon's per-request cost.</summary>
internal sealed class GetattrWorkload(SessionSetup setup, int queueIndex) : Workload(setup, queueIndex)
{
    public override void Start(Op op, PipelinedClient client)
    {
        RequestSlot s = op.Slot;
        s.Begin(FuseOpcode.Getattr, FuseConstants.RootNodeId, client.NextUnique());
        s.Arg(FuseArgs.GetattrInSize);
        s.Reply(FuseArgs.AttrOutSize);
        client.Send(s);
    }

    public override bool Continue(Op op, PipelinedClient client, int errno, int bodyLength) => true;
}
