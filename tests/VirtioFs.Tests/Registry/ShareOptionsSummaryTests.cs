using VirtioFs.Backend.Passthrough;
using VirtioFs.Backend.Share;
using Xunit;

namespace VirtioFs.Tests.Registry;

/// <summary>
/// The one-line option summary a share shows in Format-List (VirtioFsShare.OptionSummary), and the -XattrMap rules the
/// cmdlet's help uses as examples: accepted or refused by the same parser the cmdlet validates with.
/// </summary>
public sealed class ShareOptionsSummaryTests
{
    private static ShareOptions Defaults() => new() { SharedDirectory = "/srv/x", SocketPath = "/tmp/x.sock" };

    [Fact]
    public void DefaultsShowOnlyTheCachePolicyAndTheQueues()
    {
        Assert.Equal("cache=auto, queues=1", ShareOptionsSummary.Describe(Defaults()));
    }

    [Fact]
    public void EveryNonDefaultOptionIsNamedInVirtiofsdsSpelling()
    {
        var options = new ShareOptions
        {
            SharedDirectory = "/srv/x",
            SocketPath = "/tmp/x.sock",
            Tag = "x",
            AdvertiseConfig = true,
            Cache = CachePolicy.Never,
            RequestQueues = 2,
            MaxQueueSize = 1024,
            ThreadPoolSize = 4,
            Timeout = 2.5,
            ReadOnly = true,
            Writeback = true,
            ReaddirPlus = false,
            AllowDirectIo = true,
            Xattr = true,
            XattrMap = ":map:security.selinux:trusted.virtiofs.:",
            PosixLocks = true,
            Flock = true,
            AnnounceSubmounts = false,
            KillprivV2 = true,
            RlimitNofile = 4096,
            Relisten = false,
        };
        Assert.Equal(
            "cache=never, queues=2, queue_size=1024, thread_pool_size=4, timeout=2.5, readonly, writeback, no_readdirplus, " +
            "allow_direct_io, xattr, xattrmap=:map:security.selinux:trusted.virtiofs.:, posix_lock, flock, " +
            "no_announce_submounts, killpriv_v2, rlimit_nofile=4096, tag=x, stop_on_disconnect",
            ShareOptionsSummary.Describe(options));
    }

    [Fact]
    public void TheHelpExampleSummaryIsWhatTheShareShows()
    {
        // docs/en-US/Start-VirtioFsShare.md, example 3.
        var options = new ShareOptions
        {
            SharedDirectory = "/srv/build",
            SocketPath = "/tmp/build.sock",
            Tag = "build",
            PosixLocks = true,
            Flock = true,
            Xattr = true,
            XattrMap = ":map:security.selinux:trusted.virtiofs.:",
            ThreadPoolSize = 4,
            Timeout = 5,
        };
        Assert.Equal(
            "cache=auto, queues=1, thread_pool_size=4, timeout=5, xattr, xattrmap=:map:security.selinux:trusted.virtiofs.:, posix_lock, flock",
            ShareOptionsSummary.Describe(options));
    }

    [Theory]
    [InlineData(":map:security.selinux:trusted.virtiofs.:")]   // help examples and Pester
    [InlineData(":ok:all:::")]
    public void TheHelpsValidRulesParse(string rules) => XattrMap.Parse(rules);

    [Theory]
    [InlineData(":map:security.selinux", "not terminated")]   // help example 4
    [InlineData(":frob:all:a:b:", "unknown rule type 'frob'")]
    public void TheHelpsMalformedRulesAreRefusedWithTheReason(string rules, string reason)
    {
        var e = Assert.Throws<ArgumentException>(() => XattrMap.Parse(rules));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }
}
