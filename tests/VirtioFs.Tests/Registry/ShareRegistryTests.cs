using Xunit;
using VirtioFs.Backend.Share;

namespace VirtioFs.Tests.Registry;

/// <summary>The session's share list: uniqueness among live shares, wildcard lookup, names and default sockets.</summary>
public sealed class ShareRegistryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("vfs-registry-").FullName;
    private readonly List<ShareHost> _hosts = new();
    private readonly ShareRegistry<ShareHost> _registry = new(h => h);

    private ShareHost Host(string name, string? tag = null, string? socket = null)
    {
        var host = new ShareHost(new ShareOptions
        {
            SharedDirectory = _root,
            Name = name,
            Tag = tag,
            SocketPath = socket ?? Path.Combine(_root, name + ".sock"),
        });
        _hosts.Add(host);
        return host;
    }

    public void Dispose()
    {
        foreach (ShareHost host in _hosts) host.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public void AddsInOrder()
    {
        ShareHost a = Host("a"), b = Host("b");
        Assert.Equal(ShareRegistry<ShareHost>.Conflict.None, _registry.TryAdd(a, out _));
        Assert.Equal(ShareRegistry<ShareHost>.Conflict.None, _registry.TryAdd(b, out _));
        Assert.Equal(new[] { a, b }, _registry.All);
    }

    [Fact]
    public void RefusesALiveNameInAnyCase()
    {
        ShareHost first = Host("data");
        _registry.TryAdd(first, out _);
        Assert.Equal(ShareRegistry<ShareHost>.Conflict.Name, _registry.TryAdd(Host("DATA"), out ShareHost? holder));
        Assert.Same(first, holder);
    }

    [Fact]
    public void RefusesALiveTagButTagsAreCaseSensitive()
    {
        _registry.TryAdd(Host("a", tag: "myfs"), out _);
        Assert.Equal(ShareRegistry<ShareHost>.Conflict.Tag, _registry.TryAdd(Host("b", tag: "myfs"), out _));
        Assert.Equal(ShareRegistry<ShareHost>.Conflict.None, _registry.TryAdd(Host("c", tag: "MyFs"), out _));
    }

    [Fact]
    public void RefusesTheSameSocketWrittenDifferently()
    {
        string socket = Path.Combine(_root, "s.sock");
        _registry.TryAdd(Host("a", socket: socket), out _);
        Assert.Equal(ShareRegistry<ShareHost>.Conflict.SocketPath,
            _registry.TryAdd(Host("b", socket: Path.Combine(_root, "sub", "..", "s.sock")), out _));
    }

    [Fact]
    public void RefusesTheSameShareTwice()
    {
        ShareHost a = Host("a");
        _registry.TryAdd(a, out _);
        Assert.Equal(ShareRegistry<ShareHost>.Conflict.Name, _registry.TryAdd(a, out _));
        Assert.Single(_registry.All);
    }

    [Fact]
    public void AStoppedShareNoLongerHoldsItsNameTagOrSocketButStaysListed()
    {
        ShareHost old = Host("a", tag: "t");
        _registry.TryAdd(old, out _);
        old.Start();
        old.Stop();
        Assert.Equal(ShareState.Stopped, old.State);
        ShareHost again = Host("a", tag: "t", socket: old.Options.SocketPath);
        Assert.Equal(ShareRegistry<ShareHost>.Conflict.None, _registry.TryAdd(again, out _));
        Assert.Equal(new[] { old, again }, _registry.All);
        Assert.True(_registry.Remove(old));
        Assert.False(_registry.Remove(old));
        Assert.Equal(new[] { again }, _registry.All);
    }

    [Fact]
    public void FindsByNameWithWildcardsIgnoringCase()
    {
        ShareHost web = Host("web-data", "w"), db = Host("db-data", "d"), logs = Host("logs", "l");
        foreach (ShareHost h in new[] { web, db, logs }) _registry.TryAdd(h, out _);
        Assert.Equal(new[] { web, db }, _registry.FindByName(new[] { "*-DATA" }));
        Assert.Equal(new[] { web, logs }, _registry.FindByName(new[] { "logs", "w*" }));
        Assert.Equal(new[] { web, db, logs }, _registry.FindByName(null));
        Assert.Empty(_registry.FindByName(new[] { "nothing" }));
    }

    [Fact]
    public void FindsByTagCaseSensitively()
    {
        ShareHost a = Host("a", "Src"), b = Host("b", "src2"), none = Host("c");
        foreach (ShareHost h in new[] { a, b, none }) _registry.TryAdd(h, out _);
        Assert.Equal(new[] { b }, _registry.FindByTag(new[] { "src*" }));
        Assert.Equal(new[] { a, b }, _registry.FindByTag(new[] { "[Ss]rc*" }));
    }

    [Fact]
    public void ConcurrentAddsOfOneNameLetExactlyOneIn()
    {
        var hosts = Enumerable.Range(0, 16).Select(i => Host("same", socket: Path.Combine(_root, $"s{i}.sock"))).ToArray();
        var results = new ShareRegistry<ShareHost>.Conflict[hosts.Length];
        Parallel.For(0, hosts.Length, i => results[i] = _registry.TryAdd(hosts[i], out _));
        Assert.Single(results, r => r == ShareRegistry<ShareHost>.Conflict.None);
        Assert.Single(_registry.All);
    }

    [Theory]
    [InlineData("*", "anything", true)]
    [InlineData("a*c", "abbbc", true)]
    [InlineData("a*c", "abbbd", false)]
    [InlineData("a?c", "abc", true)]
    [InlineData("a?c", "ac", false)]
    [InlineData("[a-c]x", "Bx", true)]
    [InlineData("[a-c]x", "dx", false)]
    [InlineData("[xyz]", "y", true)]
    [InlineData("a`*", "a*", true)]
    [InlineData("a`*", "ab", false)]
    [InlineData("ABC", "abc", true)]
    [InlineData("[abc", "a", false)]
    [InlineData("**b", "b", true)]
    public void WildcardsBehaveLikePowerShell(string pattern, string value, bool match)
        => Assert.Equal(match, ShareRegistry<ShareHost>.IsMatch(pattern, value, ignoreCase: true));

    [Fact]
    public void TagMatchingCanBeCaseSensitive()
        => Assert.False(ShareRegistry<ShareHost>.IsMatch("ABC", "abc", ignoreCase: false));

    [Theory]
    [InlineData("plain", false)]
    [InlineData("a*", true)]
    [InlineData("a?", true)]
    [InlineData("[ab]", true)]
    [InlineData("a`*", false)]
    public void DetectsWildcards(string pattern, bool wildcard) => Assert.Equal(wildcard, ShareRegistry<ShareHost>.HasWildcard(pattern));

    [Fact]
    public void DefaultSocketIsInTheRuntimeDirectory()
    {
        Assert.Equal("/run/user/1000/virtiofs/src.sock", ShareRegistry<ShareHost>.DefaultSocketPath("src", "/run/user/1000"));
        Assert.Equal("/run/virtiofs/src.sock", ShareRegistry<ShareHost>.DefaultSocketPath("src", null));
        Assert.Equal("/run/virtiofs/src.sock", ShareRegistry<ShareHost>.DefaultSocketPath("src", ""));
        Assert.Equal("/run/virtiofs/src.sock", ShareRegistry<ShareHost>.DefaultSocketPath("src", "relative/dir"));
    }

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("a*")]
    [InlineData("tab\there")]
    public void RejectsNamesThatCannotBeSocketFileNames(string name)
        => Assert.Throws<ArgumentException>(() => ShareRegistry<ShareHost>.ValidateName(name));

    [Fact]
    public void RejectsOverlongNames()
        => Assert.Throws<ArgumentException>(() => ShareRegistry<ShareHost>.ValidateName(new string('n', 65)));
    [Fact]
    public void SeesAListeningSocketWithoutConnectingToIt()
    {
        string path = Path.Combine(_root, "with space.sock");
        using (var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified))
        {
            listener.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
            Assert.False(ShareRegistry<ShareHost>.IsSocketListening(path));   // bound, not yet listening
            listener.Listen(1);
            Assert.True(ShareRegistry<ShareHost>.IsSocketListening(path));
            Assert.False(listener.Poll(0, System.Net.Sockets.SelectMode.SelectRead));   // nobody connected to find out
        }
        Assert.False(ShareRegistry<ShareHost>.IsSocketListening(path));   // closed (.NET also unlinks the file)
    }

    [Fact]
    public void SeesARunningShare()
    {
        ShareHost host = Host("live");
        host.Start();
        Assert.True(ShareRegistry<ShareHost>.IsSocketListening(host.SocketPath!));
        host.Stop();
        // Another test's Process.Start may have forked just now: the child holds every fd (CLOEXEC closes them
        // only at its exec), so the socket can stay listed for a moment after we closed it. It must go, soon.
        Assert.True(SpinWait.SpinUntil(() => !ShareRegistry<ShareHost>.IsSocketListening(host.SocketPath!), TimeSpan.FromSeconds(5)),
            "the stopped share's socket is still listening after 5 s");
    }
}
