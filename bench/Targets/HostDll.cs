using VirtioFs.Frontend;

namespace VirtioFs.Bench.Targets;

/// <summary>Whether our standalone daemon is built (DaemonProcess.StartOurs looks for it the same way).</summary>
internal static class HostDll
{
    public static string? Find()
    {
        try
        {
            string root = DaemonProcess.FindRepositoryRoot();
            foreach (string configuration in new[] { "Release", "Debug" })
            {
                string dll = Path.Combine(root, "src", "Host", "bin", configuration, "net8.0", "virtiofs-host.dll");
                if (File.Exists(dll)) return dll;
            }
        }
        catch (DirectoryNotFoundException)
        {
        }
        return null;
    }
}
