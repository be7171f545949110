namespace VirtioFs.SurfaceCheck;

/// <summary>One "PASS name" or "FAIL name: problems" line per check; scripts/check-powershell.sh counts them.</summary>
internal sealed class Report
{
    public int Failed { get; private set; }

    public void Check(string name, IReadOnlyCollection<string> problems, string passDetail = "")
    {
        if (problems.Count == 0)
        {
            Console.WriteLine(passDetail.Length == 0 ? $"PASS {name}" : $"PASS {name}: {passDetail}");
            return;
        }
        Failed++;
        Console.WriteLine($"FAIL {name}: {string.Join("; ", problems.Take(8))}{(problems.Count > 8 ? $" (and {problems.Count - 8} more)" : "")}");
    }
}
