using System.Buffers.Binary;
using VirtioFs.Bench.Driver;
using VirtioFs.Frontend.Fuse;

namespace VirtioFs.Bench.Workloads;

/// <summary>
/// One full listing of the 1,000-entry directory as Linux 6.1 does it: OPENDIR, READDIRPLUS with one 4 KiB page per
/// request until an empty reply, RELEASEDIR. The returned lookups are not forgotten (the guest would keep them cached).
/// </summary>
internal sealed class ReaddirPlusWorkload(SessionSetup setup, int queueIndex) : Workload(setup, queueIndex)
{
    private const uint Chunk = 4096;
    private const int DirentHeader = 24;

    /// <summary>Entries seen in the last finished listing (".", ".." included), for a sanity check.</summary>
    public int LastEntries { get; private set; }

    public override void Start(Op op, PipelinedClient client)
    {
        op.Step = 0;
        op.Failed = false;
        RequestSlot s = op.Slot;
        s.Begin(FuseOpcode.Opendir, Setup.ListDirNode, client.NextUnique());
        BinaryPrimitives.WriteUInt32LittleEndian(s.Arg(FuseArgs.OpenInSize), FuseArgs.O_RDONLY | FuseArgs.O_DIRECTORY);
        s.Reply(FuseArgs.OpenOutSize);
        client.Send(s);
    }

    public override bool Continue(Op op, PipelinedClient client, int errno, int bodyLength)
    {
        RequestSlot s = op.Slot;
        if (errno != 0)
        {
            op.Failed = true;
            if (op.Step == 1) SendRelease(op, client);
            else return true;
            op.Step = 2;
            return false;
        }
        switch (op.Step)
        {
            case 0:
                op.Fh = BinaryPrimitives.ReadUInt64LittleEndian(s.ReplyArgs(8));
                op.Offset = 0;
                op.NodeId = 0; // entries counted in this op
                op.Step = 1;
                SendRead(op, client);
                return false;
            case 1:
                if (bodyLength == 0)
                {
                    LastEntries = (int)op.NodeId;
                    op.Step = 2;
                    SendRelease(op, client);
                    return false;
                }
                ReadOnlySpan<byte> data = s.ReplyData(bodyLength);
                int pos = 0;
                while (pos + FuseArgs.EntryOutSize + DirentHeader <= data.Length)
                {
                    ReadOnlySpan<byte> dirent = data[(pos + FuseArgs.EntryOutSize)..];
                    ulong off = BinaryPrimitives.ReadUInt64LittleEndian(dirent[8..]);
                    uint nameLength = BinaryPrimitives.ReadUInt32LittleEndian(dirent[16..]);
                    op.Offset = off;
                    op.NodeId++;
                    pos += FuseArgs.EntryOutSize + (int)((DirentHeader + nameLength + 7) & ~7u);
                }
                SendRead(op, client);
                return false;
            default:
                return true;
        }
    }

    private void SendRead(Op op, PipelinedClient client)
    {
        RequestSlot s = op.Slot;
        s.Begin(FuseOpcode.Readdirplus, Setup.ListDirNode, client.NextUnique());
        FuseArgs.ReadIn(s.Arg(FuseArgs.ReadInSize), op.Fh, op.Offset, Chunk);
        s.Reply(dataCapacity: (int)Chunk);
        client.Send(s);
    }

    private void SendRelease(Op op, PipelinedClient client)
    {
        RequestSlot s = op.Slot;
        s.Begin(FuseOpcode.Releasedir, Setup.ListDirNode, client.NextUnique());
        FuseArgs.ReleaseIn(s.Arg(FuseArgs.ReleaseInSize), op.Fh, 0);
        s.Reply();
        client.Send(s);
    }
}
