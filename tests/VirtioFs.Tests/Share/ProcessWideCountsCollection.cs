using Xunit;

namespace VirtioFs.Tests.Share;

/// <summary>
/// Tests that count the process's open fds or mappings: they run alone, after every parallel test class, because
/// any other test's frontend or share changes those counts.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideCountsCollection
{
    public const string Name = "Process-wide fd and mapping counts";
}
