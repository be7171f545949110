using VirtioFs.Backend.Share;
using VirtioFs.Frontend.Fuse;
using VirtioFs.Tests.Share;
using Xunit;

namespace VirtioFs.Tests.Registry;

/// <summary>
/// The rates Get-VirtioFsQueueStats shows (requests, bytes and errors per second): computed from two snapshots,
/// since the share's start for the first set and since the previous set after that, and never invented when the clock
/// or the counters make them meaningless. The last test drives real I/O through a share.
/// </summary>
[Collection(ProcessWideCountsCollection.Name)]   // the last test runs a share
public sealed class QueueStatisticsRateTrackerTests
{
    private static readonly DateTimeOffset T0 = new(2025, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private static QueueStatisticsSnapshot Snapshot(int index, long requests, long read = 0, long written = 0, long errors = 0, double cpuSeconds = 0)
        => new(index, index == 0, requests, 0, read, written, errors, 0, 0, 0, TimeSpan.Zero, TimeSpan.Zero,
            TimeSpan.FromSeconds(cpuSeconds), new Dictionary<string, long>());

    [Fact]
    public void TheFirstRatesAreAveragesSinceTheCountersWereZero()
    {
        var tracker = new QueueStatisticsRateTracker(T0);
        var rates = tracker.Next(new[] { Snapshot(0, 4), Snapshot(1, 100, read: 4 << 20, written: 2 << 20, errors: 10) }, T0.AddSeconds(4));
        Assert.Equal(2, rates.Count);
        Assert.Equal(new QueueStatisticsRates(TimeSpan.FromSeconds(4), 1, 0, 0, 0, 0), rates[0]);
        Assert.Equal(new QueueStatisticsRates(TimeSpan.FromSeconds(4), 25, 1 << 20, 512 << 10, 2.5, 0), rates[1]);
    }

    [Fact]
    public void LaterRatesCoverOnlyTheTimeSinceThePreviousCall()
    {
        var tracker = new QueueStatisticsRateTracker(T0);
        tracker.Next(new[] { Snapshot(1, 1000, read: 1000) }, T0.AddSeconds(10));
        var rates = tracker.Next(new[] { Snapshot(1, 1500, read: 1000 + (3 << 20)) }, T0.AddSeconds(10.5));
        QueueStatisticsRates one = Assert.IsType<QueueStatisticsRates>(rates[0]);
        Assert.Equal(TimeSpan.FromSeconds(0.5), one.Interval);
        Assert.Equal(1000, one.RequestsPerSecond);
        Assert.Equal(6 << 20, one.BytesReadPerSecond);
        Assert.Equal(0, one.BytesWrittenPerSecond);

        // Idle: zero, not null.
        var idle = tracker.Next(new[] { Snapshot(1, 1500, read: 1000 + (3 << 20)) }, T0.AddSeconds(11.5));
        Assert.Equal(new QueueStatisticsRates(TimeSpan.FromSeconds(1), 0, 0, 0, 0, 0), idle[0]);
    }

    [Fact]
    public void CpuPercentIsTheQueueThreadsCpuTimeOverTheIntervalInPercentOfOneCore()
    {
        var tracker = new QueueStatisticsRateTracker(T0);
        tracker.Next(new[] { Snapshot(1, 10, cpuSeconds: 1.0) }, T0.AddSeconds(10));
        var rates = tracker.Next(new[] { Snapshot(1, 20, cpuSeconds: 1.5) }, T0.AddSeconds(12));
        Assert.Equal(25, rates[0]!.CpuPercent, precision: 9);     // 0.5 s of CPU in 2 s
        // A queue with a worker pool can use more than one core.
        rates = tracker.Next(new[] { Snapshot(1, 30, cpuSeconds: 4.5) }, T0.AddSeconds(13));
        Assert.Equal(300, rates[0]!.CpuPercent, precision: 9);
        // CPU time never goes down on the same queue: if it does, these are not the same threads' counts.
        Assert.Null(tracker.Next(new[] { Snapshot(1, 40, cpuSeconds: 1) }, T0.AddSeconds(14))[0]);
    }

    [Fact]
    public void WithoutAStartTimeTheFirstSetHasNoRates()
    {
        var tracker = new QueueStatisticsRateTracker(null);
        Assert.Null(tracker.Next(new[] { Snapshot(1, 5) }, T0)[0]);
        Assert.Equal(3, tracker.Next(new[] { Snapshot(1, 8) }, T0.AddSeconds(1))[0]!.RequestsPerSecond);
    }

    [Fact]
    public void AClockThatWentBackGivesNoRatesAndTheNextIntervalStartsThere()
    {
        var tracker = new QueueStatisticsRateTracker(T0);
        tracker.Next(new[] { Snapshot(1, 10) }, T0.AddSeconds(10));
        Assert.Null(tracker.Next(new[] { Snapshot(1, 20) }, T0.AddSeconds(5))[0]);
        Assert.Null(tracker.Next(new[] { Snapshot(1, 20) }, T0.AddSeconds(5))[0]);   // the same instant: no interval
        Assert.Equal(5, tracker.Next(new[] { Snapshot(1, 30) }, T0.AddSeconds(7))[0]!.RequestsPerSecond);
    }

    [Fact]
    public void ACounterThatWentDownGivesNoRatesForThatQueueOnly()
    {
        var tracker = new QueueStatisticsRateTracker(T0);
        tracker.Next(new[] { Snapshot(0, 10), Snapshot(1, 10, errors: 5) }, T0.AddSeconds(1));
        var rates = tracker.Next(new[] { Snapshot(0, 12), Snapshot(1, 20, errors: 4) }, T0.AddSeconds(2));
        Assert.Equal(2, rates[0]!.RequestsPerSecond);
        Assert.Null(rates[1]);
    }

    [Fact]
    public void QueuesAreMatchedByIndexAndANewQueueStartsFromZero()
    {
        var tracker = new QueueStatisticsRateTracker(T0);
        tracker.Next(new[] { Snapshot(1, 10) }, T0.AddSeconds(1));
        var rates = tracker.Next(new[] { Snapshot(2, 4), Snapshot(1, 12) }, T0.AddSeconds(2));
        Assert.Equal(4, rates[0]!.RequestsPerSecond);
        Assert.Equal(2, rates[1]!.RequestsPerSecond);
    }

    [Fact]
    public void RatesOfARealShareFollowTheIoDrivenThroughIt()
    {
        using var running = new RunningShare();
        File.WriteAllBytes(Path.Combine(running.SharedDir, "data.bin"), new byte[256 << 10]);
        var tracker = new QueueStatisticsRateTracker(running.Host.StartTime);
        DateTimeOffset first = DateTimeOffset.Now;
        var atStart = tracker.Next(running.Host.GetQueueStatistics(), first);
        Assert.True(atStart[1]!.RequestsPerSecond > 0, "INIT went through: the average since the start is above zero");
        Assert.True(atStart[1]!.Interval <= first - running.Host.StartTime!.Value);

        Assert.Equal(0, running.Client.Lookup(1, "data.bin", out FuseEntry entry));
        Assert.Equal(0, running.Client.Open(entry.NodeId, FuseConstants.O_RDONLY, out FuseOpenOut open));
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(0, running.Client.Read(entry.NodeId, open.Fh, (ulong)i * (64 << 10), 64 << 10, out byte[] data));
            Assert.Equal(64 << 10, data.Length);
        }
        // Fixed timestamps two seconds apart: the rates are exact.
        var rates = tracker.Next(running.Host.GetQueueStatistics(), first.AddSeconds(2));
        QueueStatisticsRates request = rates[1]!;
        Assert.Equal(TimeSpan.FromSeconds(2), request.Interval);
        Assert.Equal(3.0, request.RequestsPerSecond);              // LOOKUP, OPEN, 4 READs in 2 s
        Assert.Equal(128 << 10, request.BytesReadPerSecond);       // 256 KiB in 2 s
        Assert.Equal(0, request.BytesWrittenPerSecond);
        Assert.Equal(0, request.ErrorsPerSecond);
        Assert.Equal(0, rates[0]!.RequestsPerSecond);              // nothing on hiprio
    }

    [Fact]
    public void CpuTimeOfARealShareGrowsWithTheWorkItsQueueThreadDoesAndOutlivesTheThread()
    {
        using var running = new RunningShare();
        File.WriteAllBytes(Path.Combine(running.SharedDir, "data.bin"), new byte[1 << 20]);
        Assert.Equal(0, running.Client.Lookup(1, "data.bin", out FuseEntry entry));
        Assert.Equal(0, running.Client.Open(entry.NodeId, FuseConstants.O_RDONLY, out FuseOpenOut open));
        TimeSpan before = running.Host.GetQueueStatistics()[1].CpuTime;
        var wall = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 2000; i++)
        {
            Assert.Equal(0, running.Client.Read(entry.NodeId, open.Fh, (ulong)(i % 16) * (64 << 10), 64 << 10, out _));
        }
        wall.Stop();
        TimeSpan during = running.Host.GetQueueStatistics()[1].CpuTime - before;
        // 2,000 reads of 64 KiB cost the queue thread real CPU (copying 125 MiB alone takes milliseconds), and one
        // thread cannot use more CPU than the time that passed.
        Assert.True(during > TimeSpan.FromMilliseconds(2), $"the queue thread's CPU time grew by {during.TotalMilliseconds:0.###} ms only");
        Assert.True(during <= wall.Elapsed + TimeSpan.FromMilliseconds(20), $"{during} of CPU in {wall.Elapsed} on one thread");

        TimeSpan last = running.Host.GetQueueStatistics()[1].CpuTime;
        running.Host.Stop();
        // The queue thread has ended: its CPU time stays counted.
        Assert.True(running.Host.GetQueueStatistics()[1].CpuTime >= last);
    }
}
