using Xunit;
using VirtioFs.Backend.VhostUser;

namespace VirtioFs.Tests.VhostUser;

/// <summary>Stands in for the share's queue threads: records which rings were started, stopped and reset.</summary>
internal sealed class RecordingRingWorkerFactory : IRingWorkerFactory
{
    public List<int> Started { get; } = new();
    public List<int> Stopped { get; } = new();
    public int Resets { get; private set; }

    public IRingWorker Start(Vring ring, VhostUserDevice device)
    {
        Started.Add(ring.Index);
        return new Worker(this, ring.Index);
    }

    public void ResetDeviceState() => Resets++;

    private sealed class Worker(RecordingRingWorkerFactory owner, int index) : IRingWorker
    {
        public void Stop() => owner.Stopped.Add(index);
    }
}
