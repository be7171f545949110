using System.Diagnostics;
using VirtioFs.Backend.Share;
using VirtioFs.Frontend.Fuse;
using VirtioFs.Tests.Hostile;
using VirtioFs.Tests.Share;
using Xunit;
using Xunit.Abstractions;

namespace VirtioFs.Tests.Robustness;

/// <summary>
/// The frontend dies in the middle of heavy I/O (its socket, eventfds and guest RAM vanish with writes and reads in
/// flight), again and again: each time the share logs it, releases the connection's mappings, eventfds and open
/// handles, and listens again; afterwards fd and mapping counts are where they started and a new frontend mounts and
/// finds the data intact. 100 losses in the default run; scripts/fuzz.sh --loss --kills N for more.
/// </summary>
[Collection(ProcessWideCountsCollection.Name)]
public sealed class FrontendLossTests(ITestOutputHelper output)
{
    private const int ChunkSize = 64 * 1024;

    private static int Losses => int.TryParse(Environment.GetEnvironmentVariable("VIRTIOFS_LOSS_KILLS"), out int n) ? n : 100;

    [Fact]
    public void AFrontendLostMidIoAHundredTimesLeavesNothingBehind()
    {
        using var share = new ConfinedShare(clientTimeout: TimeSpan.FromSeconds(5), maxPayload: ChunkSize);
        share.Frontend.Dispose();
        WaitForListening(share);
        byte[] kept = new byte[1 << 20];
        new Random(3).NextBytes(kept);
        File.WriteAllBytes(Path.Combine(share.SharedDir, "kept"), kept);

        HeavyIoThenHangUp(share, 0);   // warm-up: JIT, thread pool, first-use allocations
        WaitForListening(share);
        var before = Counts.Take();
        int disconnectsBefore = share.LogCount("front-end disconnected");

        var clock = Stopwatch.StartNew();
        long inFlightAtLoss = 0;
        for (int i = 1; i <= Losses; i++)
        {
            inFlightAtLoss += HeavyIoThenHangUp(share, i);
            WaitForListening(share);
        }
        clock.Stop();
        var after = Counts.Take();

        output.WriteLine($"{Losses} frontend losses in {clock.Elapsed.TotalSeconds:F1} s ({clock.Elapsed.TotalMilliseconds / Losses:F1} ms each), " +
            $"{inFlightAtLoss} requests in flight at the losses in total");
        output.WriteLine($"before: {before}");
        output.WriteLine($"after:  {after}");
        Assert.Equal(Losses, share.LogCount("front-end disconnected") - disconnectsBefore);
        Assert.Equal(0, share.LogCount("protocol violation"));
        Assert.Equal(before.Fds, after.Fds);
        Assert.Equal(0, after.GuestRamMappings);   // no frontend connected: the share has unmapped everything
        Assert.Equal(before.Threads, after.Threads);
        Assert.Equal(Losses + 2, share.Host.ConnectionCount);   // the fixture's own frontend, the warm-up, the losses

        // A new frontend mounts and finds everything intact.
        share.Connect();
        Assert.Equal(0, share.Client.Lookup(1, "kept", out FuseEntry entry));
        Assert.Equal(0, share.Client.Open(entry.NodeId, FuseConstants.O_RDONLY, out FuseOpenOut open));
        for (int offset = 0; offset < kept.Length; offset += ChunkSize)
        {
            Assert.Equal(0, share.Client.Read(entry.NodeId, open.Fh, (ulong)offset, ChunkSize, out byte[] data));
            Assert.Equal(kept.AsSpan(offset, ChunkSize).ToArray(), data);
        }
        Assert.True(Directory.GetFiles(share.SharedDir, "scratch-*").Length == Losses + 1);
        share.AssertConfined();
    }

    /// <summary>Connects, opens a file, fills the queue with 64 KiB writes and reads, kicks, and hangs up without reaping.</summary>
    private static int HeavyIoThenHangUp(ConfinedShare share, int round)
    {
        share.Connect();
        FuseClient client = share.Client;
        Assert.Equal(0, client.Create(1, $"scratch-{round}", FuseConstants.O_RDWR | FuseConstants.O_CREAT, FuseConstants.S_IFREG | 0x1A4, out FuseEntry file, out FuseOpenOut open));
        Assert.Equal(0, client.Lookup(1, "kept", out FuseEntry kept));
        Assert.Equal(0, client.Open(kept.NodeId, FuseConstants.O_RDONLY, out FuseOpenOut keptOpen));
        Assert.Equal(0, client.Opendir(1, out _));
        byte[] chunk = new byte[ChunkSize];
        int submitted = 0;
        for (int i = 0; i < client.Options.MaxInFlight; i++, submitted++)
        {
            if (i % 2 == 0) client.SubmitWrite(file.NodeId, open.Fh, (ulong)(i * ChunkSize), chunk);
            else client.SubmitRead(kept.NodeId, keptOpen.Fh, (ulong)(i * ChunkSize % (1 << 20)), ChunkSize);
        }
        client.Kick();
        // Reap a few so the loss lands in the middle of the batch, not before it.
        client.TryReap(TimeSpan.FromSeconds(5), out _);
        client.TryReap(TimeSpan.FromSeconds(5), out _);
        share.Frontend.Dispose();
        return submitted - 2;
    }

    private static void WaitForListening(ConfinedShare share)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (share.Host.State != ShareState.Listening)
        {
            Assert.True(DateTime.UtcNow < deadline, $"share stayed {share.Host.State} after the frontend was lost");
            Thread.Sleep(1);
        }
    }

    /// <summary>Process-wide resources a connection holds: fds, mappings of guest RAM, threads, and mapped bytes.</summary>
    internal readonly record struct Counts(int Fds, int GuestRamMappings, long GuestRamMappedKiB, int Threads, long RssKiB)
    {
        public static Counts Take()
        {
            int fds = VirtioFs.Tests.Share.ProcessCounts.OpenFds();   // settles finalizers first
            int mappings = 0;
            long mappedKiB = 0;
            foreach (string line in File.ReadLines("/proc/self/maps"))
            {
                if (!line.Contains("virtiofs-frontend-guest-ram", StringComparison.Ordinal)) continue;
                mappings++;
                string[] range = line.Split(' ')[0].Split('-');
                mappedKiB += (Convert.ToInt64(range[1], 16) - Convert.ToInt64(range[0], 16)) / 1024;
            }
            string status = File.ReadAllText("/proc/self/status");
            return new Counts(fds, mappings, mappedKiB, ShareThreads(), StatusKiB(status, "VmRSS:"));
        }

        /// <summary>Threads of shares (named "virtiofs NAME ..."; the kernel keeps 15 characters): the pool's come and go.</summary>
        private static int ShareThreads()
        {
            int count = 0;
            foreach (string task in Directory.GetDirectories("/proc/self/task"))
            {
                try
                {
                    if (File.ReadAllText(Path.Combine(task, "comm")).StartsWith("virtiofs ", StringComparison.Ordinal)) count++;
                }
                catch (IOException)
                {
                    // The thread ended meanwhile.
                }
            }
            return count;
        }

        internal static long StatusKiB(string status, string key)
        {
            string line = status.Split('\n').First(l => l.StartsWith(key, StringComparison.Ordinal));
            return long.Parse(line[key.Length..].Trim().Split(' ')[0]);
        }

        public override string ToString() =>
            $"{Fds} fds, {GuestRamMappings} guest RAM mappings ({GuestRamMappedKiB} KiB), {Threads} share threads, RSS {RssKiB} KiB";
    }
}
