using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using VirtioFs.Frontend.Fuse;
using VirtioFs.Frontend.Virtqueue;
using Xunit;

namespace VirtioFs.Tests.Hostile;

/// <summary>
/// Races a hostile guest can run against the share: lookups (".." included) while directories move under them, on
/// the host and through a second queue; and FORGET / BATCH_FORGET storms with huge counts, lying counts and unknown
/// node ids while another queue keeps using the inode (the C virtiofsd's use-after-free class). Bounded in time.
/// </summary>
public sealed class RaceTests : IDisposable
{
    private const int ENOENT = 2;
    private static readonly TimeSpan RaceTime = TimeSpan.FromSeconds(2);

    private readonly ConfinedShare _share = new(requestQueues: 2, clientTimeout: TimeSpan.FromSeconds(5));

    public void Dispose() => _share.Dispose();

    [Fact]
    public void LookupsRacingDirectoryMovesNeverLeaveTheShare()
    {
        string shared = _share.SharedDir;
        Directory.CreateDirectory(Path.Combine(shared, "a", "b", "c", "d"));
        Directory.CreateDirectory(Path.Combine(shared, "x"));
        Directory.CreateDirectory(Path.Combine(shared, "y"));
        File.WriteAllText(Path.Combine(shared, "a", "b", "c", "d", "leaf.txt"), "leaf");
        // Directory inode numbers never change on rename: these are all the directories a lookup may ever return.
        var insideDirs = Directory.EnumerateDirectories(shared, "*", SearchOption.AllDirectories).Append(shared)
            .Select(InodeOf).ToHashSet();
        FuseClient guest = _share.Client;
        FuseClient mover = _share.ClientOn(2);
        Assert.Equal(0, guest.LookupPath("a/b", out FuseEntry b));
        Assert.Equal(0, mover.Lookup(1, "x", out FuseEntry x));
        Assert.Equal(0, mover.Lookup(1, "y", out FuseEntry y));

        var stop = new CancellationTokenSource(RaceTime);
        var failures = new List<string>();
        long hostMoves = 0, guestMoves = 0, lookups = 0;
        var hostMover = new Thread(() =>
        {
            // The host moves b (with c/d below it) back and forth while the guest walks through it.
            while (!stop.IsCancellationRequested)
            {
                TryMove(Path.Combine(shared, "a", "b"), Path.Combine(shared, "x", "b"));
                TryMove(Path.Combine(shared, "x", "b"), Path.Combine(shared, "a", "b"));
                hostMoves += 2;
            }
        });
        var guestMover = new Thread(() =>
        {
            // The guest itself moves c between b and y through its second queue.
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    if (mover.Rename(b.NodeId, "c", y.NodeId, "c") == 0) guestMoves++;
                    if (mover.Rename(y.NodeId, "c", b.NodeId, "c") == 0) guestMoves++;
                }
            }
            catch (Exception e)
            {
                lock (failures) failures.Add($"mover: {e.Message}");
            }
        });
        hostMover.Start();
        guestMover.Start();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (string path in new[] { "a/b/c/d", "x/b/c/d", "y/c/d", "a/b/c", "x/b" })
                {
                    if (guest.LookupPath(path, out FuseEntry node) != 0) continue;
                    ulong current = node.NodeId;
                    for (int up = 0; up < 6; up++)
                    {
                        lookups++;
                        if (guest.Lookup(current, "..", out FuseEntry parent) != 0) break;
                        if (!insideDirs.Contains(parent.Attr.Ino)) lock (failures) failures.Add($"'..' of {path} climbed {up + 1} to inode {parent.Attr.Ino}, not a directory of the share");
                        // Only the host's parent of the share has these: finding them means a walk escaped.
                        if (guest.Lookup(parent.NodeId, "outside", out _) != ENOENT) lock (failures) failures.Add($"'outside' visible {up + 1} levels above {path}");
                        current = parent.NodeId;
                    }
                }
            }
        }
        finally
        {
            stop.Cancel();
            hostMover.Join();
            guestMover.Join();
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures.Take(20)));
        Assert.True(hostMoves > 0 && lookups > 0, $"no race happened ({hostMoves} host moves, {guestMoves} guest moves, {lookups} lookups)");
        _share.AssertConfined($"{hostMoves} host moves, {guestMoves} guest moves, {lookups} '..' lookups");
    }

    private static void TryMove(string from, string to)
    {
        try
        {
            Directory.Move(from, to);
        }
        catch (IOException)
        {
            // The guest moved c meanwhile, or the rename lost a race with the guest's own: fine.
        }
    }

    private static ulong InodeOf(string path)
    {
        var status = VirtioFs.Frontend.Interop.HostFileStatus.Of(path);
        return status.Ino;
    }

    [Fact]
    public void ForgetStormsWhileTheInodeIsInUseBreakNothing()
    {
        string content = "still readable through the handle";
        File.WriteAllText(Path.Combine(_share.SharedDir, "f"), content);
        FuseClient user = _share.Client;
        FuseClient forgetter = _share.ClientOn(2);
        Assert.Equal(0, user.Lookup(1, "f", out FuseEntry f));
        Assert.Equal(0, user.Open(f.NodeId, 0, out FuseOpenOut open));

        var stop = new CancellationTokenSource(RaceTime);
        var failures = new List<string>();
        long reads = 0, forgets = 0;
        var storm = new Thread(() =>
        {
            try
            {
                var random = new Random(6);
                while (!stop.IsCancellationRequested)
                {
                    forgetter.Forget(f.NodeId, ulong.MaxValue);
                    forgetter.Forget(1, ulong.MaxValue);                       // the root: never forgotten
                    forgetter.Forget(f.NodeId + 1_000_000, 1);                 // never issued
                    forgetter.Forget(0, ulong.MaxValue);
                    var batch = new (ulong, ulong)[64];
                    for (int i = 0; i < batch.Length; i++)
                        batch[i] = (i % 3 == 0 ? f.NodeId : (ulong)random.NextInt64(), i % 2 == 0 ? ulong.MaxValue : (ulong)random.Next());
                    forgetter.BatchForget(batch);
                    Assert.True(forgetter.WaitForgetsReturned(TimeSpan.FromSeconds(5)), "FORGET chains were not returned");
                    // A BATCH_FORGET whose count claims far more entries than the buffer holds.
                    SendRawForget(forgetter.HiprioQueue, BatchForgetWithCount(1_000_000, [(f.NodeId, 1), (12345, 1)]));
                    SendRawForget(forgetter.HiprioQueue, BatchForgetWithCount(uint.MaxValue, []));
                    forgets += 70;
                }
            }
            catch (Exception e)
            {
                lock (failures) failures.Add($"forgetter: {e}");
            }
        });
        storm.Start();
        try
        {
            byte[] buffer = new byte[256];
            while (!stop.IsCancellationRequested)
            {
                // The open handle keeps working whatever happens to the node id.
                int errno = user.Read(f.NodeId, open.Fh, 0, buffer, out int got);
                if (errno != 0 || Encoding.UTF8.GetString(buffer, 0, got) != content) lock (failures) failures.Add($"READ through the handle: errno {errno}");
                reads++;
                // The node id may be gone at any moment: an error is fine, a wrong answer or a hang is not.
                if (user.Getattr(f.NodeId, out FuseAttr attr) == 0 && attr.Size != (ulong)content.Length) lock (failures) failures.Add($"GETATTR says size {attr.Size}");
                // A fresh lookup always works (and may or may not bring back the same node id).
                if (user.Lookup(1, "f", out _) != 0) lock (failures) failures.Add("LOOKUP f failed");
            }
        }
        finally
        {
            stop.Cancel();
            storm.Join();
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures.Take(20)));
        Assert.True(reads > 0 && forgets > 0);
        Assert.Equal(0, user.Release(f.NodeId, open.Fh));
        Assert.Equal(0, user.Lookup(1, "f", out FuseEntry again));
        Assert.Equal((ulong)content.Length, again.Attr.Size);
        _share.AssertConfined($"{reads} reads, {forgets} forgets");
    }

    private static byte[] BatchForgetWithCount(uint count, (ulong Node, ulong Nlookup)[] entries)
    {
        byte[] body = new byte[8 + 16 * entries.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(body, count);
        for (int i = 0; i < entries.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(8 + 16 * i), entries[i].Node);
            BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(16 + 16 * i), entries[i].Nlookup);
        }
        return FuseClient.BuildRequest(FuseOpcode.BatchForget, 99, 0, body);
    }

    /// <summary>One readable descriptor on the hiprio queue, as virtio_fs.c sends forgets; waits for the used entry.</summary>
    private void SendRawForget(VirtqueueDriver hiprio, byte[] request)
    {
        var memory = _share.Frontend.Memory;
        ulong buffer = memory.Allocate((ulong)request.Length, 64);
        memory.Write(buffer, request);
        ushort[] head = hiprio.ReserveDescriptors(1);
        hiprio.WriteDescriptor(head[0], buffer, (uint)request.Length, 0, 0);
        hiprio.PublishAvail(head[0]);
        hiprio.ForceKick();
        Assert.True(hiprio.WaitUsed(TimeSpan.FromSeconds(5), out ushort done, out uint length), "raw BATCH_FORGET not returned");
        Assert.Equal(head[0], done);
        Assert.Equal(0u, length);
        hiprio.ReturnDescriptors(head);
        memory.Free(buffer);
    }
}
