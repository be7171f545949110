using System.Buffers.Binary;
using VirtioFs.Frontend.Fuse;
using VirtioFs.Tests.Hostile;
using VirtioFs.Tests.Share;
using Xunit;
using Xunit.Abstractions;

namespace VirtioFs.Tests.Robustness;

/// <summary>
/// kata #3953 / CVE-2020-10717: a guest that looks up more files than the daemon may open descriptors must not cost
/// one descriptor per inode. With file handles (name_to_handle_at/open_by_handle_at, CAP_DAC_READ_SEARCH) every
/// lookup succeeds and the daemon's fd count stays bounded.
/// </summary>
[Collection(ProcessWideCountsCollection.Name)]
public sealed class FdBoundTests(ITestOutputHelper output)
{
    /// <summary>More files than RLIMIT_NOFILE (20000 on these machines): impossible with an O_PATH fd per inode.</summary>
    private const int Files = 25_000;

    /// <summary>What the share may hold open however many inodes the guest knows (handles, cache, quota slack).</summary>
    private const int FdBound = 1_000;

    [Fact]
    public void LookingUpMoreFilesThanTheFdLimitKeepsTheDaemonsFdsBounded()
    {
        using var share = new ConfinedShare(clientTimeout: TimeSpan.FromSeconds(10), maxPayload: 4096);
        int directories = ResourceBoundsTests.CreateTree(share.SharedDir, Files);
        FuseClient client = share.Client;
        int before = Directory.GetFiles("/proc/self/fd").Length;
        int succeeded = 0, peak = before;
        var errors = new Dictionary<int, int>();
        byte[] body = new byte[FuseConstants.EntryOutSize];
        for (int d = 0; d < directories; d++)
        {
            int dirErrno = client.Lookup(1, $"d{d:D3}", out FuseEntry dir);
            if (dirErrno != 0)
            {
                errors[dirErrno] = errors.GetValueOrDefault(dirErrno) + 1001;
                continue;
            }
            for (int f = d * 1000; f < (d + 1) * 1000; f++)
            {
                int errno = client.Lookup(dir.NodeId, $"f{f:D6}", out _);
                if (errno == 0) succeeded++;
                else errors[errno] = errors.GetValueOrDefault(errno) + 1;
            }
            try
            {
                peak = Math.Max(peak, Directory.GetFiles("/proc/self/fd").Length);
            }
            catch (IOException e)
            {
                // The share's inodes used up the whole process's descriptors: in PowerShell the session itself now fails.
                errors[-1] = errors.GetValueOrDefault(-1) + 1;
                output.WriteLine($"after directory {d}: the test process itself cannot open a descriptor: {e.Message}");
            }
        }
        output.WriteLine($"{succeeded} of {Files} lookups succeeded; errors: {string.Join(", ", errors.Select(e => $"errno {e.Key} x{e.Value}"))}; fds {before} before, peak {peak}");
        Assert.Empty(errors);
        Assert.Equal(Files, succeeded);
        Assert.True(peak - before < FdBound, $"the share holds {peak - before} more fds after {succeeded} lookups; bound {FdBound}");
        share.AssertServes();
    }
}
