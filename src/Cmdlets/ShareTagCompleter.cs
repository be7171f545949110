using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace VirtioFs.Cmdlets;

/// <summary>Tab completion of -Tag with the tags of this session's shares.</summary>
public sealed class ShareTagCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(
        string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        => Completions.For(ShareSession.Registry.All.Where(s => s.Tag.Length > 0).Select(s => (s.Tag, $"{s.Tag}: share '{s.Name}', {s.ShareState}")), wordToComplete);
}
