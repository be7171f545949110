using System.Text.RegularExpressions;

namespace VirtioFs.SurfaceCheck;

/// <summary>
/// The fields we check from VirtioFs.psd1. A psd1 is a PowerShell hashtable literal; ours keeps one key per line and
/// lists as @( 'a' 'b' ) or @('a', 'b'), which these patterns read (the syntax itself is checked by tree-sitter).
/// </summary>
internal sealed partial class Manifest
{
    private readonly string _text;

    public Manifest(string path)
    {
        _text = File.ReadAllText(path);
    }

    public string? Scalar(string key)
    {
        Match m = Regex.Match(_text, $@"^\s*{key}\s*=\s*'([^']*)'", RegexOptions.Multiline);
        return m.Success ? m.Groups[1].Value : null;
    }

    /// <summary>The strings of <c>Key = @( ... )</c>; null when the key is missing.</summary>
    public IReadOnlyList<string>? List(string key)
    {
        Match m = Regex.Match(_text, $@"^\s*{key}\s*=\s*@\(([^)]*)\)", RegexOptions.Multiline);
        if (!m.Success) return null;
        return QuotedString().Matches(m.Groups[1].Value).Select(q => q.Groups[1].Value).ToList();
    }

    [GeneratedRegex("'([^']*)'")]
    private static partial Regex QuotedString();
}
