namespace VirtioFs.Host;

internal static class Program
{
    private static int Main(string[] args)
    {
        Console.Error.WriteLine("virtiofs-host: not implemented yet");
        return 1;
    }
}
