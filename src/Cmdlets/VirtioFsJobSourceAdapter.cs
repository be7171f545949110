using System.Management.Automation;

namespace VirtioFs.Cmdlets;

/// <summary>
/// Makes shares visible to PowerShell's job cmdlets. The JobManager creates this adapter itself (hence the public
/// parameterless constructor); the shares live in <see cref="ShareSession.Registry"/>, which every instance reads.
/// </summary>
public sealed class VirtioFsJobSourceAdapter : JobSourceAdapter
{
    /// <summary>The name of the JobInvocationInfo parameter that carries the started share to <see cref="NewJob(JobInvocationInfo)"/>.</summary>
    internal const string ShareParameter = "VirtioFsShare";

    public VirtioFsJobSourceAdapter()
    {
        Name = nameof(VirtioFsJobSourceAdapter);
    }

    /// <summary>Start-VirtioFsShare starts the share, then registers it here through JobManager.NewJob.</summary>
    public override Job2 NewJob(JobInvocationInfo specification)
    {
        foreach (var parameters in specification.Parameters)
        {
            foreach (var parameter in parameters)
            {
                if (parameter.Name == ShareParameter && parameter.Value is VirtioFsShare share) return share;
            }
        }
        throw new ArgumentException(Strings.MissingShareParameter, nameof(specification));
    }

    public override IList<Job2> GetJobs() => Shares().ToList();

    public override IList<Job2> GetJobsByName(string name, bool recurse)
        => ShareSession.Registry.FindByName(new[] { name }).Cast<Job2>().ToList();

    public override IList<Job2> GetJobsByCommand(string command, bool recurse)
    {
        var pattern = new WildcardPattern(command, WildcardOptions.IgnoreCase);
        return Shares().Where(s => pattern.IsMatch(s.Command)).ToList();
    }

    public override Job2? GetJobByInstanceId(Guid instanceId, bool recurse)
        => Shares().FirstOrDefault(s => s.InstanceId == instanceId);

    public override Job2? GetJobBySessionId(int id, bool recurse)
        => Shares().FirstOrDefault(s => s.Id == id);

    public override IList<Job2> GetJobsByState(JobState state, bool recurse)
        => Shares().Where(s => s.JobStateInfo.State == state).ToList();

    /// <summary>Shares have no filterable properties beyond name, id, command and state.</summary>
    public override IList<Job2> GetJobsByFilter(Dictionary<string, object> filter, bool recurse) => new List<Job2>();

    /// <summary>Remove-Job: stop the share if it still runs, and forget it.</summary>
    public override void RemoveJob(Job2 job)
    {
        if (job is not VirtioFsShare share) return;
        share.StopJob();
        ShareSession.Registry.Remove(share);
    }

    private static IEnumerable<Job2> Shares() => ShareSession.Registry.All;
}
