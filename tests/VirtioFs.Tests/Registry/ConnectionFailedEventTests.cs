using System.Buffers.Binary;
using System.Net.Sockets;
using VirtioFs.Backend.Share;
using VirtioFs.Tests.Share;
using Xunit;
using BackendProtocolException = VirtioFs.Backend.VhostUser.VhostUserProtocolException;
using R = VirtioFs.Frontend.VhostUser.VhostUserRequest;

namespace VirtioFs.Tests.Registry;

/// <summary>
/// ShareHost.ConnectionFailed, which the PowerShell job turns into its VhostUserProtocolViolation error record: raised
/// once per broken connection with the real exception, on the connection thread, BEFORE the share logs the failure
/// (the job relies on that order to keep the log line from becoming a second record), and a handler that throws
/// neither stops the share nor reaches the connection thread.
/// </summary>
[Collection(ProcessWideCountsCollection.Name)]
public sealed class ConnectionFailedEventTests
{
    private sealed class Recorder
    {
        public readonly List<(Exception Error, string? Thread, bool LoggedAlready)> Calls = new();
        public readonly ManualResetEventSlim Raised = new(false);
    }

    private static Recorder Record(RunningShare running)
    {
        var recorder = new Recorder();
        running.Host.ConnectionFailed += (sender, e) =>
        {
            Assert.Same(running.Host, sender);
            lock (recorder.Calls) recorder.Calls.Add((e, Thread.CurrentThread.Name, running.LogContains("protocol violation")));
            recorder.Raised.Set();
        };
        return recorder;
    }

    private static byte[] Header(uint request, uint flags, uint size)
    {
        byte[] header = new byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(header, request);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), size);
        return header;
    }

    private static int ViolationLines(RunningShare running)
    {
        lock (running.Log) return running.Log.Count(l => l.Contains("protocol violation", StringComparison.Ordinal));
    }

    [Fact]
    public void AMalformedMessageRaisesTheEventOnceWithTheRealExceptionBeforeTheLogLine()
    {
        using var running = new RunningShare();
        Recorder recorder = Record(running);

        running.Frontend!.SendRaw(999, R.FlagVersion, new byte[8], []);
        Assert.True(recorder.Raised.Wait(TimeSpan.FromSeconds(10)), "ConnectionFailed was not raised");
        running.WaitFor(ShareState.Listening);

        var call = Assert.Single(recorder.Calls);
        var violation = Assert.IsType<BackendProtocolException>(call.Error);
        Assert.Contains("unknown request code 999", violation.Message, StringComparison.Ordinal);
        Assert.Equal("virtiofs test vhost-user", call.Thread);
        Assert.False(call.LoggedAlready, "the failure was logged before the event: the job could not tell the line is reported");
        Assert.Equal(1, ViolationLines(running));

        // The share serves the next front-end, and a clean disconnect raises nothing.
        running.Disconnect();
        running.Connect();
        Assert.Equal(0, running.Client.Lookup(1, ".", out _));
        running.Disconnect();
        running.WaitFor(ShareState.Listening);
        Assert.Single(recorder.Calls);
    }

    [Fact]
    public void AFrontendThatSendsOnlyABadHeaderRaisesTheEvent()
    {
        // What the Pester test sends from PowerShell with a plain socket: no handshake, one 12-byte header.
        using var running = new RunningShare(connect: false);
        Recorder recorder = Record(running);
        using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            socket.Connect(new UnixDomainSocketEndPoint(running.SocketPath));
            socket.Send(Header(999, R.FlagVersion, 0));
            socket.ReceiveTimeout = 10_000;
            Assert.Equal(0, socket.Receive(new byte[16]));   // the share closed the connection
        }
        Assert.True(recorder.Raised.Wait(TimeSpan.FromSeconds(10)));
        var call = Assert.Single(recorder.Calls);
        Assert.Contains("unknown request code 999", Assert.IsType<BackendProtocolException>(call.Error).Message, StringComparison.Ordinal);
        running.WaitFor(ShareState.Listening);
        Assert.Equal(1, ViolationLines(running));
    }

    [Fact]
    public void AHandlerThatThrowsIsLoggedAndTheShareKeepsServing()
    {
        using var running = new RunningShare();
        running.Host.ConnectionFailed += (_, _) => throw new InvalidOperationException("handler bug");
        Recorder after = Record(running);   // a later handler of the same event never runs: one delegate list, one throw

        running.Frontend!.SendRaw(999, R.FlagVersion, new byte[8], []);
        running.WaitFor(ShareState.Listening);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (ViolationLines(running) == 0 && DateTime.UtcNow < deadline) Thread.Sleep(10);
        Assert.Equal(1, ViolationLines(running));
        Assert.True(running.LogContains("Warning: share 'test': a connection-failure handler failed: handler bug"));
        Assert.Empty(after.Calls);

        running.Disconnect();
        running.Connect();
        Assert.Equal(0, running.Client.Lookup(1, ".", out _));
        Assert.Equal(ShareState.Connected, running.Host.State);
    }
}
