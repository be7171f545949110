using System.Buffers.Binary;
using VirtioFs.Bench.Driver;
using VirtioFs.Frontend.Fuse;

namespace VirtioFs.Bench.Workloads;

/// <summary>
/// LOOKUP of a name in the 1,000-entry directory, then FORGET of the returned node on the hiprio queue. Without
/// <paramref name="forget"/> (the relookup workload) the names stay known, as a guest's dentries do: after the
/// warm-up every LOOKUP re-validates an inode the daemon already has, which is what a guest sends when an entry's
/// timeout has run out (always with cache=none/never, after a second with auto).
/// </summary>
internal sealed class LookupWorkload(SessionSetup setup, int queueIndex, bool forget = true) : Workload(setup, queueIndex)
{
    private static readonly byte[] Prefix = "f"u8.ToArray();

    public override void Start(Op op, PipelinedClient client)
    {
        FormatName(op, Prefix, (long)(NextRandom() % (ulong)Setup.ListDirEntries));
        RequestSlot s = op.Slot;
        s.Begin(FuseOpcode.Lookup, Setup.ListDirNode, client.NextUnique());
        s.Name(op.Name.AsSpan(0, op.NameLength));
        s.Reply(FuseArgs.EntryOutSize);
        client.Send(s);
    }

    public override bool Continue(Op op, PipelinedClient client, int errno, int bodyLength)
    {
        if (forget && errno == 0 && bodyLength >= FuseArgs.EntryOutSize)
        {
            ulong node = BinaryPrimitives.ReadUInt64LittleEndian(op.Slot.ReplyArgs(8));
            client.Hiprio.Forget(node, 1);
        }
        return true;
    }
}
