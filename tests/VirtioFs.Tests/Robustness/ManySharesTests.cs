using System.Diagnostics;
using VirtioFs.Backend.Share;
using VirtioFs.Frontend.Fuse;
using VirtioFs.Tests.Hostile;
using Xunit;
using Xunit.Abstractions;

namespace VirtioFs.Tests.Robustness;

/// <summary>
/// Eight shares in one process (as eight Start-VirtioFsShare jobs in one PowerShell session), each driven by its own
/// frontend on its own thread with writes, reads and renames; one is stopped in the middle. Its frontend sees the
/// connection go; the other seven never notice and finish with verified data.
/// </summary>
public sealed class ManySharesTests(ITestOutputHelper output)
{
    private const int Shares = 8;
    private const int Stopped = 3;
    private static readonly TimeSpan RunTime = TimeSpan.FromSeconds(3);

    [Fact]
    public void StoppingOneOfEightBusySharesNeverDisturbsTheOthers()
    {
        var shares = new ConfinedShare[Shares];
        try
        {
            for (int i = 0; i < Shares; i++) shares[i] = new ConfinedShare(clientTimeout: TimeSpan.FromSeconds(3), maxPayload: 128 * 1024);
            var iterations = new long[Shares];
            var failures = new string?[Shares];
            var stop = new CancellationTokenSource(RunTime);
            var threads = new Thread[Shares];
            for (int i = 0; i < Shares; i++)
            {
                int index = i;
                threads[i] = new Thread(() => Drive(shares[index], index, stop.Token, ref iterations[index], ref failures[index])) { IsBackground = true };
                threads[i].Start();
            }
            Thread.Sleep(RunTime / 3);
            var clock = Stopwatch.StartNew();
            shares[Stopped].Host.Stop();
            output.WriteLine($"share {Stopped} stopped in {clock.ElapsedMilliseconds} ms while busy ({iterations[Stopped]} iterations so far)");
            foreach (Thread thread in threads) Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "a driver thread hung");

            for (int i = 0; i < Shares; i++)
            {
                output.WriteLine($"share {i}: {iterations[i]} iterations{(failures[i] is null ? "" : $", ended by: {failures[i]}")}");
                if (i == Stopped) continue;
                Assert.True(failures[i] is null, $"share {i} was disturbed: {failures[i]}");
                Assert.True(iterations[i] > 10, $"share {i} made no progress");
                shares[i].AssertConfined($"share {i}");
            }
            Assert.NotNull(failures[Stopped]);
            Assert.Equal(ShareState.Stopped, shares[Stopped].Host.State);
            Assert.False(File.Exists(shares[Stopped].SocketPath));
            Assert.Equal(0L, shares[Stopped].Host.InternalErrors);
        }
        finally
        {
            foreach (ConfinedShare? share in shares) share?.Dispose();
        }
    }

    /// <summary>Create, write 100 KiB, read back and compare, rename, unlink: until stopped or the share goes away.</summary>
    private static void Drive(ConfinedShare share, int index, CancellationToken stop, ref long iterations, ref string? failure)
    {
        FuseClient client = share.Client;
        var random = new Random(index);
        byte[] data = new byte[100 * 1024];
        byte[] back = new byte[data.Length];
        try
        {
            while (!stop.IsCancellationRequested)
            {
                random.NextBytes(data);
                string name = $"f{iterations % 4}";
                Check(client.Create(1, name, FuseConstants.O_RDWR | FuseConstants.O_CREAT | FuseConstants.O_TRUNC, FuseConstants.S_IFREG | 0x1A4, out FuseEntry file, out FuseOpenOut open), "CREATE");
                Check(client.Write(file.NodeId, open.Fh, 0, data, out uint written), "WRITE");
                Check(written == data.Length ? 0 : -1, "short WRITE");
                Check(client.Read(file.NodeId, open.Fh, 0, back, out int read), "READ");
                Check(read == data.Length && back.AsSpan().SequenceEqual(data) ? 0 : -1, "READ returned other data");
                Check(client.Release(file.NodeId, open.Fh), "RELEASE");
                Check(client.Rename(1, name, 1, name + ".moved"), "RENAME");
                Check(client.Unlink(1, name + ".moved"), "UNLINK");
                client.Forget(file.NodeId, 1);
                iterations++;
            }
        }
        catch (Exception e)
        {
            failure = $"{e.GetType().Name}: {e.Message}";
        }
    }

    private static void Check(int errno, string what)
    {
        if (errno != 0) throw new InvalidOperationException($"{what} failed with errno {errno}");
    }
}
