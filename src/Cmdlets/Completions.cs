using System.Management.Automation;

namespace VirtioFs.Cmdlets;

/// <summary>Shared by the completers: prefix match (case-insensitive), distinct, quoted when the value needs it.</summary>
internal static class Completions
{
    public static IEnumerable<CompletionResult> For(IEnumerable<(string Value, string ToolTip)> candidates, string wordToComplete)
    {
        string prefix = wordToComplete.Trim('\'', '"');
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach ((string value, string toolTip) in candidates)
        {
            if (!value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || !seen.Add(value)) continue;
            yield return new CompletionResult(Quote(value), value, CompletionResultType.ParameterValue, toolTip);
        }
    }

    /// <summary>Single-quotes a value that PowerShell would otherwise split or expand.</summary>
    private static string Quote(string value)
        => value.Any(c => char.IsWhiteSpace(c) || "'\"`$&@(){};,|<>#".Contains(c))
            ? "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'"
            : value;
}
