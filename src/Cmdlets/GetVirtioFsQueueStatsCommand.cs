using System.Management.Automation;
using VirtioFs.Backend.Share;

namespace VirtioFs.Cmdlets;

/// <summary>
/// Get-VirtioFsQueueStats: one object per queue of each share (hiprio queue 0, request queues 1..n), with rates since
/// the share started. With -Watch it writes a new set every -Interval seconds, with rates since the previous set,
/// until Ctrl+C or until every share it watches has finished. The loop is here; the rates are
/// <see cref="QueueStatisticsRateTracker"/>'s.
/// </summary>
[Cmdlet(VerbsCommon.Get, "VirtioFsQueueStats", DefaultParameterSetName = ByName)]
[OutputType(typeof(VirtioFsQueueStats))]
public sealed class GetVirtioFsQueueStatsCommand : PSCmdlet
{
    private const string ByName = "ByName";
    private const string ByShare = "ByShare";

    private readonly List<VirtioFsShare> _shares = new();
    private readonly Dictionary<VirtioFsShare, QueueStatisticsRateTracker> _trackers = new();
    private readonly ManualResetEventSlim _stopping = new(false);

    /// <summary>Shares from Start-VirtioFsShare or Get-VirtioFsShare.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByShare)]
    [Alias("InputObject")]
    [ValidateNotNull]
    public VirtioFsShare[]? Share { get; set; }

    /// <summary>Names of shares (wildcards allowed). Default: every share.</summary>
    [Parameter(Position = 0, ParameterSetName = ByName)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ShareNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Keep writing fresh statistics every -Interval seconds.</summary>
    [Parameter]
    public SwitchParameter Watch { get; set; }

    /// <summary>Seconds between two sets with -Watch. Default 1.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int Interval { get; set; } = 1;

    protected override void ProcessRecord()
    {
        IEnumerable<VirtioFsShare> shares = ParameterSetName == ByShare ? Share! : ShareLookup.ByName(this, Name);
        foreach (VirtioFsShare share in shares)
        {
            if (_shares.Contains(share)) continue;
            _shares.Add(share);
            // Without -Watch, write as they come: a pipeline of shares streams.
            if (!Watch) WriteSnapshot(share);
        }
    }

    protected override void EndProcessing()
    {
        if (!Watch) return;
        while (true)
        {
            foreach (VirtioFsShare share in _shares) WriteSnapshot(share);
            if (_shares.All(s => s.JobStateInfo.State is JobState.Stopped or JobState.Completed or JobState.Failed)) return;
            if (_stopping.Wait(TimeSpan.FromSeconds(Interval))) return;
        }
    }

    protected override void StopProcessing() => _stopping.Set();

    private void WriteSnapshot(VirtioFsShare share)
    {
        if (!_trackers.TryGetValue(share, out QueueStatisticsRateTracker? tracker))
        {
            tracker = new QueueStatisticsRateTracker(share.StartTime);
            _trackers.Add(share, tracker);
        }
        DateTimeOffset now = DateTimeOffset.Now;
        IReadOnlyList<QueueStatisticsSnapshot> queues = share.GetQueueStatistics();
        IReadOnlyList<QueueStatisticsRates?> rates = tracker.Next(queues, now);
        for (int i = 0; i < queues.Count; i++) WriteObject(new VirtioFsQueueStats(share, queues[i], rates[i], now));
    }
}
