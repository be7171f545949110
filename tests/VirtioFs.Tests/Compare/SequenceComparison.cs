using System.Text;

namespace VirtioFs.Tests.Compare;

/// <summary>Step-by-step comparison of two <see cref="SequenceRun"/>s, reported as a readable diff.</summary>
public static class SequenceComparison
{
    /// <summary>Null when both runs agree on every step and on the final tree; otherwise a report of every difference.</summary>
    public static string? Diff(RequestSequence sequence, SequenceRun a, SequenceRun b)
    {
        var report = new StringBuilder();
        int width = Math.Max(a.Label.Length, b.Label.Length);
        int differing = 0;
        for (int i = 0; i < sequence.Steps.Count; i++)
        {
            string left = a.Outcomes[i].ToString(), right = b.Outcomes[i].ToString();
            if (left == right) continue;
            differing++;
            report.AppendLine($"  #{i + 1} {sequence.Steps[i]}");
            report.AppendLine($"      {a.Label.PadRight(width)}: {left}");
            report.AppendLine($"      {b.Label.PadRight(width)}: {right}");
        }
        string? treeDiff = DiffLines(a.FinalTree, b.FinalTree, a.Label, b.Label);
        if (differing == 0 && treeDiff is null) return null;

        var header = new StringBuilder($"sequence \"{sequence.Name}\": {differing} of {sequence.Steps.Count} steps differ ({a.Label} vs {b.Label})");
        header.AppendLine();
        header.Append(report);
        if (treeDiff is not null) header.AppendLine("final shared directories differ:").Append(treeDiff);
        return header.ToString();
    }

    /// <summary>Null when every step with an expectation got it; otherwise the steps that did not.</summary>
    public static string? CheckExpectations(RequestSequence sequence, SequenceRun run)
    {
        var report = new StringBuilder();
        for (int i = 0; i < sequence.Steps.Count; i++)
        {
            var step = sequence.Steps[i];
            if (step.ExpectErrno is int expected && run.Outcomes[i].Errno != expected)
                report.AppendLine($"  #{i + 1} {step}: {run.Label} gave {run.Outcomes[i]}");
        }
        return report.Length == 0 ? null : $"sequence \"{sequence.Name}\" no longer provokes what it says on {run.Label}:\n{report}";
    }

    /// <summary>A table of every step and its outcome, for test output.</summary>
    public static string Table(RequestSequence sequence, SequenceRun run)
    {
        var b = new StringBuilder($"{run.Label}:\n");
        for (int i = 0; i < sequence.Steps.Count; i++) b.AppendLine($"  #{i + 1,-3} {sequence.Steps[i]}\n        => {run.Outcomes[i]}");
        return b.ToString();
    }

    private static string? DiffLines(string a, string b, string labelA, string labelB)
    {
        var left = a.Split('\n').ToHashSet();
        var right = b.Split('\n').ToHashSet();
        var onlyLeft = left.Except(right).Order(StringComparer.Ordinal).ToList();
        var onlyRight = right.Except(left).Order(StringComparer.Ordinal).ToList();
        if (onlyLeft.Count == 0 && onlyRight.Count == 0) return null;
        var r = new StringBuilder();
        foreach (string l in onlyLeft) r.AppendLine($"  - {labelA} only: {l}");
        foreach (string l in onlyRight) r.AppendLine($"  + {labelB} only: {l}");
        return r.ToString();
    }
}
