using VirtioFs.Bench.Driver;
using VirtioFs.Frontend.Fuse;

namespace VirtioFs.Bench.Workloads;

/// <summary>READ of <c>size</c> bytes from the big file: random aligned offsets, or sequential (wrapping at the end).</summary>
internal sealed class ReadWorkload(SessionSetup setup, int queueIndex, uint size, bool sequential) : Workload(setup, queueIndex)
{
    private readonly ulong _blocks = (ulong)setup.BigFileSize / size;
    private ulong _next = (ulong)queueIndex * (ulong)setup.BigFileSize / 4 / size;

    public override long BytesPerOp => size;

    public override void Start(Op op, PipelinedClient client)
    {
        ulong block;
        if (sequential)
        {
            block = _next % _blocks;
            _next++;
        }
        else
        {
            block = NextRandom() % _blocks;
        }
        RequestSlot s = op.Slot;
        s.Begin(FuseOpcode.Read, Setup.BigFileNode, client.NextUnique());
        FuseArgs.ReadIn(s.Arg(FuseArgs.ReadInSize), Setup.BigFileFh, block * size, size);
        s.Reply(dataCapacity: (int)size);
        client.Send(s);
    }

    public override bool Continue(Op op, PipelinedClient client, int errno, int bodyLength)
    {
        if (errno == 0 && bodyLength != size) op.Failed = true; // a short read inside the file is wrong
        return true;
    }
}
