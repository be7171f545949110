using Xunit;

namespace VirtioFs.EndToEnd.Infrastructure;

/// <summary>
/// Every test that boots a guest joins this collection: the guest image is prepared once, and the tests run one
/// after another (two TCG guests side by side on a 2-core machine would only make both slow).
/// </summary>
[CollectionDefinition(Name)]
public sealed class GuestCollection : ICollectionFixture<GuestImage>
{
    public const string Name = "Guest";
}
