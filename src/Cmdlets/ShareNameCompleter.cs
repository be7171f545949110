using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace VirtioFs.Cmdlets;

/// <summary>Tab completion of -Name with the names of this session's shares.</summary>
public sealed class ShareNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(
        string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        => Completions.For(ShareSession.Registry.All.Select(s => (s.Name, $"{s.Name}: tag '{s.Tag}', {s.ShareState}")), wordToComplete);
}
