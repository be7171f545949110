using System.Reflection;

namespace VirtioFs.EndToEnd.Infrastructure;

/// <summary>Facts the test project's build stamped into the assembly (see VirtioFs.EndToEnd.Tests.csproj).</summary>
internal static class BuildInfo
{
    /// <summary>Debug or Release: the daemon under test is taken from the same configuration's output.</summary>
    public static string Configuration { get; } =
        typeof(BuildInfo).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == "Configuration")?.Value
        ?? throw new InvalidOperationException("The test assembly carries no Configuration metadata.");
}
