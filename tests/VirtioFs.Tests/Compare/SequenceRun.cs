using VirtioFs.Tests.Frontend;

namespace VirtioFs.Tests.Compare;

/// <summary>What one daemon did with a sequence: an outcome per step and the shared directory afterwards.</summary>
public sealed record SequenceRun(string Label, IReadOnlyList<StepOutcome> Outcomes, string FinalTree, string DaemonLog)
{
    /// <summary>
    /// Copies <paramref name="template"/> into a fresh shared directory, starts the daemon, runs the sequence, snapshots
    /// the directory and tears everything down (also on failure).
    /// </summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public static SequenceRun Execute(BackendSession.Kind kind, string label, string template, RequestSequence sequence)
    {
        using var session = BackendSession.Start(kind, share => PreparedTree.Copy(template, share));
        var outcomes = new List<StepOutcome>(sequence.Steps.Count);
        foreach (var step in sequence.Steps)
        {
            try
            {
                outcomes.Add(SequenceRunner.RunStep(session.Fuse, step));
            }
            catch (Exception e)
            {
                throw new InvalidOperationException(
                    $"{label}: step #{outcomes.Count + 1} {step} failed: {e.Message}\ndaemon log:\n{session.Daemon.Log}", e);
            }
        }
        return new SequenceRun(label, outcomes, PreparedTree.Snapshot(session.SharedDir), session.Daemon.Log);
    }
}
