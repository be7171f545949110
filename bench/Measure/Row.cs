namespace VirtioFs.Bench.Measure;

/// <summary>One line of the table: a workload at a depth on a target, with the runs measured for it.</summary>
internal sealed class Row(string workload, int depth, string target, bool ours, bool baseline)
{
    public string Workload { get; } = workload;
    public int Depth { get; } = depth;
    public string Target { get; } = target;
    public bool Ours { get; } = ours;

    /// <summary>The row ratios are computed against (virtiofsd with its defaults).</summary>
    public bool Baseline { get; } = baseline;

    public List<RunResult> Runs { get; } = [];

    public double Median(Func<RunResult, double> f)
    {
        var values = Runs.Select(f).OrderBy(v => v).ToArray();
        if (values.Length == 0) return double.NaN;
        return values.Length % 2 == 1 ? values[values.Length / 2] : (values[values.Length / 2 - 1] + values[values.Length / 2]) / 2;
    }

    public double? MedianOrNull(Func<RunResult, double?> f)
    {
        var values = Runs.Select(f).Where(v => v.HasValue).Select(v => v!.Value).OrderBy(v => v).ToArray();
        if (values.Length == 0) return null;
        return values[values.Length / 2];
    }
}
