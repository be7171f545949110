using VirtioFs.Frontend.Fuse;
using VirtioFs.Tests.Hostile;
using Xunit;

namespace VirtioFs.Tests.Robustness;

/// <summary>
/// A request the FUSE layer refuses as malformed or hostile (not an ordinary errno like ENOENT) is logged once with its
/// reason through ShareLog.GuestError, so an administrator sees an attacking guest; a flood stays rate limited.
/// </summary>
public sealed class FuseRejectionLogTests : IDisposable
{
    private readonly ConfinedShare _share = new(clientTimeout: TimeSpan.FromSeconds(5));

    public void Dispose() => _share.Dispose();

    [Theory]
    [InlineData("a name with a slash", "name")]
    [InlineData("in_header.len larger than the chain", "len")]
    [InlineData("a truncated fuse_mkdir_in", "MKDIR")]
    public void AHostileFuseRequestIsLoggedWithItsReason(string what, string reason)
    {
        FuseClient c = _share.Client;
        FuseRawReply reply = what switch
        {
            "a name with a slash" => c.SendRaw(RawArgs.MkdirIn(0x1ED).Name("../../etc/x").Request(FuseOpcode.Mkdir, c.NextUnique(), 1), 4096),
            "in_header.len larger than the chain" => c.SendRaw(FuseClient.BuildRequest(FuseOpcode.Getattr, c.NextUnique(), 1, new byte[16], 4096), 4096),
            _ => c.SendRaw(new RawArgs().U32(0x1ED).Request(FuseOpcode.Mkdir, c.NextUnique(), 1), 4096),
        };
        Assert.Equal(22, reply.Errno);
        string[] warnings;
        lock (_share.Log) warnings = _share.Log.Where(l => l.StartsWith("Warning", StringComparison.Ordinal)).ToArray();
        Assert.True(warnings.Length == 1 && warnings[0].Contains(reason, StringComparison.OrdinalIgnoreCase),
            $"{what}: expected one warning naming '{reason}', the log has:{Environment.NewLine}{string.Join(Environment.NewLine, _share.Log)}");
    }
}
