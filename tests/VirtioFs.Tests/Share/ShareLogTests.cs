using Xunit;
using VirtioFs.Backend.Share;

namespace VirtioFs.Tests.Share;

public sealed class ShareLogTests
{
    [Fact]
    public void GuestTriggeredLinesAreRateLimitedAndTheSuppressedCountIsReported()
    {
        var lines = new List<string>();
        var log = new ShareLog((_, m) => lines.Add(m), ShareLogLevel.Info);
        for (int i = 0; i < 1000; i++) log.GuestError(i, n => $"bad chain {n}");
        Assert.Equal(ShareLog.GuestLinesPerWindow, lines.Count);
        Assert.Equal(1000 - ShareLog.GuestLinesPerWindow, log.SuppressedCount);
    }

    [Fact]
    public void ABrokenSinkNeverThrows()
    {
        var log = new ShareLog((_, _) => throw new ObjectDisposedException("stream"), ShareLogLevel.Debug);
        log.Error("x");
        log.GuestError(0, _ => "y");
    }

    [Fact]
    public void LinesBelowTheLevelAreNotWritten()
    {
        var lines = new List<string>();
        var log = new ShareLog((_, m) => lines.Add(m), ShareLogLevel.Warning);
        log.Info("info");
        log.Debug("debug");
        log.Warning("warning");
        Assert.Equal(["warning"], lines);
    }
}
