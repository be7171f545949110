using System.Buffers.Binary;
using VirtioFs.Bench.Driver;
using VirtioFs.Frontend.Fuse;

namespace VirtioFs.Bench.Workloads;

/// <summary>
/// What <c>touch f; rm f</c> costs a guest: CREATE (O_CREAT|O_EXCL), RELEASE, UNLINK, then FORGET of the node.
/// Names are unique per target and queue, so daemons sharing the directory never collide.
/// </summary>
internal sealed class CreateWorkload(SessionSetup setup, int queueIndex) : Workload(setup, queueIndex)
{
    private readonly byte[] _prefix = System.Text.Encoding.ASCII.GetBytes($"c{setup.TargetIndex}_{queueIndex}_");
    private long _counter = Environment.TickCount64 * 1000;

    public override void Start(Op op, PipelinedClient client)
    {
        FormatName(op, _prefix, _counter++);
        op.Step = 0;
        op.Failed = false;
        RequestSlot s = op.Slot;
        s.Begin(FuseOpcode.Create, Setup.CreateDirNode, client.NextUnique());
        Span<byte> a = s.Arg(FuseArgs.CreateInSize);
        BinaryPrimitives.WriteUInt32LittleEndian(a, FuseArgs.O_RDWR | FuseArgs.O_CREAT | FuseArgs.O_EXCL);
        BinaryPrimitives.WriteUInt32LittleEndian(a[4..], FuseArgs.S_IFREG | 0x1A4); // 0644
        s.Name(op.Name.AsSpan(0, op.NameLength));
        s.Reply(FuseArgs.EntryOutSize, FuseArgs.OpenOutSize);
        client.Send(s);
    }

    public override bool Continue(Op op, PipelinedClient client, int errno, int bodyLength)
    {
        RequestSlot s = op.Slot;
        if (errno != 0)
        {
            op.Failed = true;
            return true;
        }
        switch (op.Step)
        {
            case 0:
                ReadOnlySpan<byte> reply = s.ReplyArgs(FuseArgs.EntryOutSize + FuseArgs.OpenOutSize);
                op.NodeId = BinaryPrimitives.ReadUInt64LittleEndian(reply);
                op.Fh = BinaryPrimitives.ReadUInt64LittleEndian(reply[FuseArgs.EntryOutSize..]);
                op.Step = 1;
                s.Begin(FuseOpcode.Release, op.NodeId, client.NextUnique());
                FuseArgs.ReleaseIn(s.Arg(FuseArgs.ReleaseInSize), op.Fh, FuseArgs.O_RDWR);
                s.Reply();
                client.Send(s);
                return false;
            case 1:
                op.Step = 2;
                s.Begin(FuseOpcode.Unlink, Setup.CreateDirNode, client.NextUnique());
                s.Name(op.Name.AsSpan(0, op.NameLength));
                s.Reply();
                client.Send(s);
                return false;
            default:
                client.Hiprio.Forget(op.NodeId, 1);
                return true;
        }
    }
}
