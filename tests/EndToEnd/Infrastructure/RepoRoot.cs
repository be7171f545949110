namespace VirtioFs.EndToEnd.Infrastructure;

/// <summary>The repository checkout the tests run from: the nearest folder above the test binaries holding VirtioFs.slnx.</summary>
internal static class RepoRoot
{
    private const string Marker = "VirtioFs.slnx";

    private static readonly Lazy<string> s_path = new(Find);

    public static string Path => s_path.Value;

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, Marker)))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No {Marker} in any folder above {AppContext.BaseDirectory}.");
    }
}
