namespace VirtioFs.Backend.Qemu;

/// <summary>POSIX shell quoting (sh, bash, dash): what a user may paste into a terminal or a script.</summary>
public static class ShellQuoting
{
    /// <summary>
    /// A word of only safe characters stays as it is; anything else is put in single quotes, inside which the shell
    /// interprets nothing, and each embedded single quote becomes '\'' (close, escaped quote, reopen).
    /// </summary>
    public static string Quote(string word)
    {
        if (word.Length == 0) return "''";
        if (word.All(IsSafe)) return word;
        return "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    private static bool IsSafe(char c)
        => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9')
            or '_' or '-' or '.' or '/' or ',' or '=' or ':' or '@' or '%' or '+';
}
