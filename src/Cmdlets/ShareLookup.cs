using System.Management.Automation;

namespace VirtioFs.Cmdlets;

/// <summary>Finds shares by name or tag for the cmdlets; a literal name that finds nothing is a ShareNotFound error.</summary>
internal static class ShareLookup
{
    public static List<VirtioFsShare> ByName(Cmdlet cmdlet, string[]? names)
        => Find(cmdlet, names, ShareSession.Registry.FindByName, Strings.ShareNotFound);

    public static List<VirtioFsShare> ByTag(Cmdlet cmdlet, string[]? tags)
        => Find(cmdlet, tags, ShareSession.Registry.FindByTag, Strings.ShareTagNotFound);

    private static List<VirtioFsShare> Find(
        Cmdlet cmdlet, string[]? patterns, Func<IReadOnlyCollection<string>?, IReadOnlyList<VirtioFsShare>> find, string notFoundMessage)
    {
        if (patterns is null) return find(null).ToList();
        var found = new List<VirtioFsShare>();
        foreach (string pattern in patterns)
        {
            IReadOnlyList<VirtioFsShare> matches = find(new[] { pattern });
            // As Get-Process and Get-Job do: a wildcard that matches nothing is no error, a literal name is.
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(pattern))
            {
                cmdlet.WriteError(new ErrorRecord(
                    new ItemNotFoundException(string.Format(notFoundMessage, pattern)), ErrorIds.ShareNotFound, ErrorCategory.ObjectNotFound, pattern));
            }
            foreach (VirtioFsShare share in matches)
            {
                if (!found.Contains(share)) found.Add(share);
            }
        }
        return found;
    }
}
