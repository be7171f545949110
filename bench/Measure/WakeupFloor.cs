using System.Diagnostics;
using VirtioFs.Backend.Interop;

namespace VirtioFs.Bench.Measure;

/// <summary>
/// The transport floor of an interrupt-driven virtqueue: one round trip of two eventfd signals between two threads
/// that sleep in poll (the frontend's kick wakes the daemon, the daemon's call wakes the frontend). Every request at
/// depth 1 pays this at most once, whatever the daemon does; what remains of the overhead is the daemon's own work.
/// </summary>
internal static unsafe class WakeupFloor
{
    public static double RoundTripMicros(TimeSpan duration)
    {
        int kick = Libc.eventfd(0, Libc.EFD_CLOEXEC);
        int call = Libc.eventfd(0, Libc.EFD_CLOEXEC);
        int stop = 0;
        var echo = new Thread(() =>
        {
            var pfd = new Libc.pollfd { fd = kick, events = Libc.POLLIN };
            while (Volatile.Read(ref stop) == 0)
            {
                pfd.revents = 0;
                if (Libc.poll(&pfd, 1, 100) <= 0) continue;
                Libc.EventfdRead(kick);
                Libc.EventfdSignal(call);
            }
        }) { IsBackground = true, Name = "wakeup floor echo" };
        echo.Start();
        var samples = new List<long>(1 << 18);
        long end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var cfd = new Libc.pollfd { fd = call, events = Libc.POLLIN };
        while (Stopwatch.GetTimestamp() < end)
        {
            long t0 = Stopwatch.GetTimestamp();
            Libc.EventfdSignal(kick);
            cfd.revents = 0;
            while (Libc.poll(&cfd, 1, 1000) <= 0) { }
            Libc.EventfdRead(call);
            samples.Add(Stopwatch.GetTimestamp() - t0);
        }
        Volatile.Write(ref stop, 1);
        echo.Join();
        Libc.close(kick);
        Libc.close(call);
        samples.Sort();
        return samples.Count == 0 ? double.NaN : samples[samples.Count / 2] * 1e6 / Stopwatch.Frequency;
    }
}
