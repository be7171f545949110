using System.Buffers.Binary;
using System.Diagnostics;
using VirtioFs.Frontend.Fuse;
using VirtioFs.Tests.Hostile;
using VirtioFs.Tests.Share;
using Xunit;
using Xunit.Abstractions;

namespace VirtioFs.Tests.Robustness;

/// <summary>
/// A guest that looks up a whole tree (CVE-2020-10717, kata #3953, "disconnects after reading 1 million files"):
/// what each looked-up inode costs the daemon (fds, managed memory, RSS), that FORGET gives every bit back, and that
/// a guest which runs the daemon out of descriptors gets EMFILE/ENFILE answers while the share keeps serving.
/// 5,000 files in the default run; scripts/fuzz.sh --tree --files N for more.
/// </summary>
[Collection(ProcessWideCountsCollection.Name)]
public sealed class ResourceBoundsTests(ITestOutputHelper output)
{
    private const int EMFILE = 24, ENFILE = 23;
    private const int FilesPerDirectory = 1000;

    private static int TreeFiles => int.TryParse(Environment.GetEnvironmentVariable("VIRTIOFS_TREE_FILES"), out int n) ? n : 5_000;

    [Fact]
    public void LookingUpATreeIsMeasuredAndForgetReturnsEverything()
    {
        using var share = new ConfinedShare(clientTimeout: TimeSpan.FromSeconds(10), maxPayload: 4096);
        var clock = Stopwatch.StartNew();
        int directories = CreateTree(share.SharedDir, TreeFiles);
        output.WriteLine($"created {TreeFiles} files in {directories} directories in {clock.Elapsed.TotalSeconds:F1} s");

        FuseClient client = share.Client;
        Assert.Equal(0, client.Getattr(1, out _));
        ForceGc();
        var before = FrontendLossTests.Counts.Take();
        long managedBefore = GC.GetTotalMemory(forceFullCollection: true);

        clock.Restart();
        var nodes = new List<ulong>(TreeFiles + directories);
        var errors = new Dictionary<int, int>();
        LookUpTree(client, directories, nodes, errors);
        double lookupSeconds = clock.Elapsed.TotalSeconds;
        ForceGc();
        var loaded = FrontendLossTests.Counts.Take();
        long managedLoaded = GC.GetTotalMemory(forceFullCollection: true);
        int inodes = nodes.Count;
        output.WriteLine($"{inodes} inodes looked up in {lookupSeconds:F1} s ({inodes / lookupSeconds:F0}/s); errors: {Describe(errors)}");
        output.WriteLine($"before:      {before}");
        output.WriteLine($"looked up:   {loaded}");
        output.WriteLine($"per inode:   {(double)(loaded.Fds - before.Fds) / inodes:F2} fds, {(double)(managedLoaded - managedBefore) / inodes:F0} managed bytes, " +
            $"{(loaded.RssKiB - before.RssKiB) * 1024.0 / inodes:F0} RSS bytes");

        clock.Restart();
        ForgetAll(client, nodes);
        ForceGc();
        var forgotten = FrontendLossTests.Counts.Take();
        output.WriteLine($"forgotten:   {forgotten} ({clock.Elapsed.TotalSeconds:F1} s for {inodes} BATCH_FORGET entries)");

        int limit = FdLimit();
        if (before.Fds + TreeFiles + directories + 64 < limit)
        {
            Assert.Empty(errors);   // fds per inode are printed, not asserted: file handles will bring them to ~0
        }
        else
        {
            // More inodes than descriptors: the guest gets EMFILE/ENFILE, never another error, and the share lives.
            Assert.True(errors.Keys.All(e => e is EMFILE or ENFILE), Describe(errors));
        }
        Assert.Equal(before.Fds, forgotten.Fds);
        share.AssertConfined();
    }

    [Fact]
    public void AGuestThatExhaustsTheFdLimitGetsEmfileAndTheShareKeepsServing()
    {
        // Inodes held by descriptors (as where file handles are unavailable): with handles, lookups cost none.
        using var share = new ConfinedShare(clientTimeout: TimeSpan.FromSeconds(10), maxPayload: 4096,
            inodeFileHandles: VirtioFs.Backend.Passthrough.InodeFileHandles.Never);
        int directories = CreateTree(share.SharedDir, 1500);
        FuseClient client = share.Client;
        File.WriteAllText(Path.Combine(share.SharedDir, "open-before"), "still readable");
        Assert.Equal(0, client.Lookup(1, "open-before", out FuseEntry kept));
        Assert.Equal(0, client.Open(kept.NodeId, 0, out FuseOpenOut keptOpen));
        Assert.Equal(0, client.Getattr(1, out _));
        var before = FrontendLossTests.Counts.Take();

        var nodes = new List<ulong>();
        var errors = new Dictionary<int, int>();
        HostileLibc.rlimit saved = GetLimit();
        // New fds take the lowest free number below the limit: leave exactly 500 free numbers (other tests leave holes).
        ulong lowered = LimitLeavingFree(500);
        SetLimit(new HostileLibc.rlimit { rlim_cur = lowered, rlim_max = saved.rlim_max });
        int getattrDuring, readDuring;
        byte[] buffer = new byte[64];
        try
        {
            LookUpTree(client, directories, nodes, errors);
            getattrDuring = client.Getattr(1, out _);
            readDuring = client.Read(kept.NodeId, keptOpen.Fh, 0, buffer, out _);
        }
        finally
        {
            SetLimit(saved);
        }
        output.WriteLine($"limit lowered to {lowered}: {nodes.Count} inodes looked up, errors {Describe(errors)}; during exhaustion GETATTR root errno {getattrDuring}, READ errno {readDuring}");
        Assert.True(errors.Count > 0, "the lowered limit was never reached");
        Assert.True(errors.Keys.All(e => e is EMFILE or ENFILE), Describe(errors));
        Assert.Equal(0, getattrDuring);
        Assert.Equal(0, readDuring);
        Assert.Equal(0L, share.Host.InternalErrors);

        ForgetAll(client, nodes);
        Assert.Equal(before.Fds, FrontendLossTests.Counts.Take().Fds);
        Assert.Equal(0, client.LookupPath("d000/f000999", out _));   // with the limit back, lookups work again
        share.AssertConfined();
    }

    /// <summary>d000/f000000 ... d(N/1000)/...: empty files (one mknod each, no open), 1000 per directory. Returns the directory count.</summary>
    internal static int CreateTree(string root, int files)
    {
        int directories = (files + FilesPerDirectory - 1) / FilesPerDirectory;
        for (int d = 0; d < directories; d++)
        {
            string dir = Directory.CreateDirectory(Path.Combine(root, $"d{d:D3}")).FullName;
            for (int f = d * FilesPerDirectory; f < Math.Min(files, (d + 1) * FilesPerDirectory); f++)
                ConfinedShare.MakeNode(Path.Combine(dir, $"f{f:D6}"), 0x8000 | 0x1A4, 0);
        }
        return directories;
    }

    /// <summary>LOOKUPs every directory and file, 16 in flight; node ids of the successes go to <paramref name="nodes"/>.</summary>
    private static void LookUpTree(FuseClient client, int directories, List<ulong> nodes, Dictionary<int, int> errors)
    {
        byte[] body = new byte[FuseConstants.EntryOutSize];
        for (int d = 0; d < directories; d++)
        {
            int errno = client.Lookup(1, $"d{d:D3}", out FuseEntry dir);
            if (errno != 0)
            {
                errors[errno] = errors.GetValueOrDefault(errno) + FilesPerDirectory + 1;
                continue;
            }
            nodes.Add(dir.NodeId);
            for (int f = d * FilesPerDirectory; f < (d + 1) * FilesPerDirectory; f++)
            {
                if (client.InFlight == client.Options.MaxInFlight) Reap(client, body, nodes, errors);
                client.SubmitLookup(dir.NodeId, $"f{f:D6}");
            }
            while (client.InFlight > 0) Reap(client, body, nodes, errors);
        }
    }

    private static void Reap(FuseClient client, byte[] body, List<ulong> nodes, Dictionary<int, int> errors)
    {
        Assert.True(client.TryReap(TimeSpan.FromSeconds(10), out FuseCompletion done, body), "a LOOKUP was not answered");
        if (done.Errno == 0) nodes.Add(BinaryPrimitives.ReadUInt64LittleEndian(body));
        else if (done.Errno != 2) errors[done.Errno] = errors.GetValueOrDefault(done.Errno) + 1;   // ENOENT: past the last file
    }

    private static void ForgetAll(FuseClient client, List<ulong> nodes)
    {
        for (int i = 0; i < nodes.Count; i += 512)
        {
            var batch = nodes.Skip(i).Take(512).Select(n => (n, 1UL)).ToArray();
            client.BatchForget(batch);
        }
        Assert.True(client.WaitForgetsReturned(TimeSpan.FromSeconds(30)), "BATCH_FORGET chains were not returned");
        // The hiprio worker returns a chain after it handled it; one GETATTR round trip orders nothing across queues, so poll.
        Thread.Sleep(50);
    }

    private static string Describe(Dictionary<int, int> errors)
        => errors.Count == 0 ? "none" : string.Join(", ", errors.Select(e => $"errno {e.Key} x{e.Value}"));

    private static void ForceGc()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static ulong LimitLeavingFree(int free)
    {
        var open = Directory.GetFiles("/proc/self/fd").Select(f => int.Parse(Path.GetFileName(f))).ToHashSet();
        int limit = 0, available = 0;
        while (available < free)
        {
            if (!open.Contains(limit)) available++;
            limit++;
        }
        return (ulong)limit;
    }

    private static int FdLimit() => (int)Math.Min(GetLimit().rlim_cur, int.MaxValue);

    private static unsafe HostileLibc.rlimit GetLimit()
    {
        HostileLibc.rlimit limit;
        Assert.Equal(0, HostileLibc.getrlimit(HostileLibc.RLIMIT_NOFILE, &limit));
        return limit;
    }

    private static unsafe void SetLimit(HostileLibc.rlimit limit) => Assert.Equal(0, HostileLibc.setrlimit(HostileLibc.RLIMIT_NOFILE, &limit));
}
