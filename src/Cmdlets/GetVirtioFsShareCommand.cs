using System.Management.Automation;

namespace VirtioFs.Cmdlets;

/// <summary>Get-VirtioFsShare: the shares of this session, by name or by tag, with wildcards.</summary>
[Cmdlet(VerbsCommon.Get, "VirtioFsShare", DefaultParameterSetName = ByName)]
[OutputType(typeof(VirtioFsShare))]
public sealed class GetVirtioFsShareCommand : PSCmdlet
{
    private const string ByName = "ByName";
    private const string ByTag = "ByTag";

    /// <summary>Names to find (wildcards allowed). Default: every share.</summary>
    [Parameter(Position = 0, ParameterSetName = ByName, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ShareNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Tags to find (wildcards allowed, case-sensitive as the guest compares tags).</summary>
    [Parameter(Mandatory = true, ParameterSetName = ByTag)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ShareTagCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Tag { get; set; }

    protected override void ProcessRecord()
    {
        List<VirtioFsShare> shares = ParameterSetName switch
        {
            ByName => ShareLookup.ByName(this, Name),
            ByTag => ShareLookup.ByTag(this, Tag),
            _ => throw new PSInvalidOperationException($"Invalid parameter set '{ParameterSetName}'."),
        };
        WriteObject(shares, enumerateCollection: true);
    }
}
