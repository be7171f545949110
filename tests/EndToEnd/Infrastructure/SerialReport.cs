using System.Text.RegularExpressions;

namespace VirtioFs.EndToEnd.Infrastructure;

/// <summary>One guest check: <c>E2E CHECK name PASS|FAIL detail</c>.</summary>
internal sealed record GuestCheck(string Name, bool Passed, string Detail);

/// <summary>
/// The results the guest printed on its serial console (format in tests/EndToEnd/guest/lib.sh). Lines are matched
/// wherever the marker appears, because terminal escapes and kernel messages can share a line with it.
/// </summary>
internal sealed partial class SerialReport
{
    private SerialReport(IReadOnlyList<GuestCheck> checks, IReadOnlyDictionary<string, string> values, int? doneCount, IReadOnlyList<string> problems)
    {
        Checks = checks;
        Values = values;
        DoneCount = doneCount;
        Problems = problems;
    }

    public IReadOnlyList<GuestCheck> Checks { get; }

    public IReadOnlyDictionary<string, string> Values { get; }

    /// <summary>The count from <c>E2E DONE n</c>; null when the guest never got there.</summary>
    public int? DoneCount { get; }

    /// <summary>Things wrong with the report itself: a check or value printed twice.</summary>
    public IReadOnlyList<string> Problems { get; }

    public static SerialReport Parse(IEnumerable<string> lines)
    {
        var checks = new List<GuestCheck>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var problems = new List<string>();
        int? done = null;
        foreach (var line in lines)
        {
            if (CheckLine().Match(line) is { Success: true } check)
            {
                var name = check.Groups["name"].Value;
                if (checks.Any(c => c.Name == name))
                {
                    problems.Add($"check '{name}' reported more than once");
                }

                checks.Add(new GuestCheck(name, check.Groups["result"].Value == "PASS", check.Groups["detail"].Value.TrimEnd()));
            }
            else if (ValueLine().Match(line) is { Success: true } value)
            {
                if (!values.TryAdd(value.Groups["name"].Value, value.Groups["value"].Value))
                {
                    problems.Add($"value '{value.Groups["name"].Value}' reported more than once");
                }
            }
            else if (DoneLine().Match(line) is { Success: true } doneLine)
            {
                done = int.Parse(doneLine.Groups["count"].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return new SerialReport(checks, values, done, problems);
    }

    /// <summary>
    /// Everything that makes this run a failure: a missing guest finish, missing or failed checks, unexpected check
    /// names, missing values, and a DONE count that disagrees with the checks seen (a lost line).
    /// </summary>
    public List<string> Failures(IReadOnlyCollection<string> expectedChecks, IReadOnlyCollection<string> expectedValues)
    {
        var failures = new List<string>(Problems);
        if (DoneCount is null)
        {
            failures.Add("the guest never printed 'E2E DONE' (it crashed, hung, or its output was lost)");
        }
        else if (DoneCount != Checks.Count)
        {
            failures.Add($"the guest counted {DoneCount} checks but {Checks.Count} were parsed from the serial log");
        }

        var missing = expectedChecks.Where(n => Checks.All(c => c.Name != n)).ToArray();
        if (missing.Length > 0)
        {
            failures.Add($"{missing.Length} expected check(s) missing: {string.Join(", ", missing)}");
        }

        foreach (var check in Checks.Where(c => !c.Passed))
        {
            failures.Add($"check '{check.Name}' FAILED: {check.Detail}");
        }

        foreach (var check in Checks.Where(c => c.Passed && !expectedChecks.Contains(c.Name)))
        {
            failures.Add($"check '{check.Name}' is not one the host expects (update the expected list)");
        }

        foreach (var name in expectedValues.Where(n => !Values.ContainsKey(n)))
        {
            failures.Add($"value '{name}' is missing");
        }

        return failures;
    }

    // "E2E CHECK name PASS detail..." anywhere on the line; names are one word.
    [GeneratedRegex(@"E2E CHECK (?<name>[A-Za-z0-9_.-]+) (?<result>PASS|FAIL)(?: (?<detail>.*))?$")]
    private static partial Regex CheckLine();

    [GeneratedRegex(@"E2E VALUE (?<name>[A-Za-z0-9_.-]+) (?<value>\S+)")]
    private static partial Regex ValueLine();

    [GeneratedRegex(@"E2E DONE (?<count>[0-9]{1,6})\b")]
    private static partial Regex DoneLine();
}
