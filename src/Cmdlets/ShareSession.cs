using VirtioFs.Backend.Share;

namespace VirtioFs.Cmdlets;

/// <summary>
/// The shares of this process. Shares own sockets and tags, which are process-wide resources, so there is one list
/// per process (not per runspace): every runspace that imports the module sees and can stop every share.
/// </summary>
internal static class ShareSession
{
    public static ShareRegistry<VirtioFsShare> Registry { get; } = new(share => share.Host);

    static ShareSession()
    {
        // Background threads die with the process, but the socket files would stay behind: stop shares on exit.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAll();
    }

    /// <summary>Stops every share and waits for each (module removal, process exit).</summary>
    public static void StopAll()
    {
        foreach (VirtioFsShare share in Registry.All)
        {
            try
            {
                share.StopJob();
            }
            catch (Exception)
            {
                // Keep stopping the others; a share that failed to stop has nothing more we can release.
            }
        }
    }
}
