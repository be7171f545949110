using Xunit;
using VirtioFs.Backend.Qemu;

namespace VirtioFs.Tests.Qemu;

public sealed class ShellQuotingTests
{
    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("-device", "-device")]
    [InlineData("a,b=c:/d@e%f+g.h_i", "a,b=c:/d@e%f+g.h_i")]
    [InlineData("", "''")]
    [InlineData("with space", "'with space'")]
    [InlineData("it's", "'it'\\''s'")]
    [InlineData("$HOME", "'$HOME'")]
    [InlineData("a\"b", "'a\"b'")]
    [InlineData("back`tick", "'back`tick'")]
    [InlineData("new\nline", "'new\nline'")]
    public void QuotesWhatTheShellWouldInterpret(string word, string quoted) => Assert.Equal(quoted, ShellQuoting.Quote(word));
}
