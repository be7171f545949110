using System.Management.Automation;

namespace VirtioFs.Cmdlets;

/// <summary>
/// Stop-VirtioFsShare: closes the socket and the connection, waits until every thread of the share has ended and
/// every fd and mapping is released. The share stays in Get-Job (state Stopped) until Remove-Job.
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "VirtioFsShare", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByInputObject)]
[OutputType(typeof(VirtioFsShare))]
public sealed class StopVirtioFsShareCommand : PSCmdlet
{
    private const string ByInputObject = "ByInputObject";
    private const string ByName = "ByName";
    private const string ByTag = "ByTag";

    /// <summary>Shares from Start-VirtioFsShare or Get-VirtioFsShare.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByInputObject)]
    [ValidateNotNull]
    public VirtioFsShare[]? InputObject { get; set; }

    /// <summary>Names of shares to stop (wildcards allowed).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ShareNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Tags of shares to stop (wildcards allowed).</summary>
    [Parameter(Mandatory = true, ParameterSetName = ByTag)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ShareTagCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Tag { get; set; }

    /// <summary>Write each stopped share to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        IEnumerable<VirtioFsShare> shares = ParameterSetName switch
        {
            ByInputObject => InputObject!,
            ByName => ShareLookup.ByName(this, Name),
            ByTag => ShareLookup.ByTag(this, Tag),
            _ => throw new PSInvalidOperationException($"Invalid parameter set '{ParameterSetName}'."),
        };
        foreach (VirtioFsShare share in shares)
        {
            if (ShouldProcess(string.Format(Strings.StopTarget, share.Name, share.Tag, share.SocketPath), Strings.StopAction))
            {
                share.StopJob();   // returns when the share's threads have ended
            }
            if (PassThru) WriteObject(share);
        }
    }
}
