using System.Diagnostics;
using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Memory;

namespace VirtioFs.Backend.Share;

/// <summary>How a queue thread or a pool thread serves one chain: timed, and never thrown out of.</summary>
internal static class GuardedRequest
{
    /// <summary>
    /// Serves the chain and returns the reply length. An exception is a bug of ours, not the guest's fault: the chain
    /// gets no reply (0), the error is logged, and serving goes on.
    /// </summary>
    public static int Serve(FuseServer server, FuseWorker worker, SegmentList readable, SegmentList writable, ShareLog log,
        int queueIndex, out long elapsedTicks)
    {
        long start = Stopwatch.GetTimestamp();
        int written;
        try
        {
            written = server.HandleRequest(worker, readable, writable);
        }
        catch (Exception e)
        {
            log.Error($"queue {queueIndex}: request failed with an internal error: {e}");
            written = 0;
        }
        elapsedTicks = Stopwatch.GetTimestamp() - start;
        return written;
    }
}
