using VirtioFs.Bench.Driver;
using VirtioFs.Frontend.Fuse;

namespace VirtioFs.Bench.Workloads;

/// <summary>WRITE of <c>size</c> bytes at random aligned offsets of the write file (the payload is the slot's data area).</summary>
internal sealed class WriteWorkload(SessionSetup setup, int queueIndex, uint size) : Workload(setup, queueIndex)
{
    private readonly ulong _blocks = (ulong)setup.WriteFileSize / size;

    public override long BytesPerOp => size;

    public override void Start(Op op, PipelinedClient client)
    {
        ulong block = NextRandom() % _blocks;
        RequestSlot s = op.Slot;
        s.Begin(FuseOpcode.Write, Setup.WriteFileNode, client.NextUnique());
        FuseArgs.ReadIn(s.Arg(FuseArgs.WriteInSize), Setup.WriteFileFh, block * size, size);
        s.Data((int)size);
        s.Reply(FuseArgs.WriteOutSize);
        client.Send(s);
    }

    public override bool Continue(Op op, PipelinedClient client, int errno, int bodyLength) => true;
}
