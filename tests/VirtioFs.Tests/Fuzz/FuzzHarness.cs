using System.Buffers.Binary;
using System.Diagnostics;
using VirtioFs.Backend.Interop;
using VirtioFs.Backend.Share;
using VirtioFs.Frontend.Fuse;
using VirtioFs.Frontend.Virtqueue;
using VirtioFs.Tests.Hostile;
using F = VirtioFs.Frontend.Virtqueue.VirtqDescriptorFlags;
using R = VirtioFs.Frontend.VhostUser.VhostUserRequest;

namespace VirtioFs.Tests.Fuzz;

/// <summary>
/// A seeded, time-bounded fuzzer against a running share, through the test frontend. Each round is one of: a
/// structured random FUSE request (a third of them mutated) with random reply room and descriptor split; a random
/// descriptor chain (addresses inside scratch memory, outside every region or across its end, loops, indirect
/// tables of random descriptors); a random vhost-user message (then a fresh frontend); or a frontend that hangs up
/// with a request in flight. Failures: a chain not returned in time (a hang), a reply that breaks the protocol, an
/// internal error counted by the share, a failed share, a frontend that cannot connect again. The failure message
/// names the seed and round; the same seed replays the same sequence.
/// </summary>
internal sealed class FuzzHarness
{
    private static readonly TimeSpan Watchdog = TimeSpan.FromSeconds(5);
    private const int ScratchSize = 256 * 1024;

    private readonly ConfinedShare _share;
    private readonly Random _random;
    private readonly FuzzRequests _requests;
    private readonly Queue<string> _recent = new();
    private ulong _scratch;
    private long _round;

    public FuzzHarness(ConfinedShare share, int seed)
    {
        _share = share;
        Seed = seed;
        _random = new Random(seed);
        _requests = new FuzzRequests(_random);
        _scratch = _share.Frontend.Memory.Allocate(ScratchSize, 4096);
    }

    public int Seed { get; }
    public long FuseRequests { get; private set; }
    public long Mutated { get; private set; }
    public long Chains { get; private set; }
    public long VhostMessages { get; private set; }
    public long HangUps { get; private set; }
    public long Replies { get; private set; }
    public SortedDictionary<int, long> Errnos { get; } = new();

    public long Rounds => _round;

    public string Summary =>
        $"seed {Seed}: {_round} rounds: {FuseRequests} FUSE requests ({Mutated} mutated, {Replies} answered), {Chains} raw chains, " +
        $"{VhostMessages} vhost-user messages, {HangUps} hang-ups; errnos {string.Join(", ", Errnos.Select(e => $"{e.Key}x{e.Value}"))}";

    public void Run(TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            _round++;
            int kind = _random.Next(1000);
            if (kind < 780) FuseRound();
            else if (kind < 975) ChainRound();
            else if (kind < 995) VhostUserRound();
            else HangUpRound();
            if (_share.Host.InternalErrors != 0) Fail($"the share counted an internal error: {_share.Host.LastInternalError}");
            if (_share.Host.State == ShareState.Failed) Fail($"the share failed: {_share.Host.Failure}");
            if (_round % 256 == 0) EnsureSession();
            if (_round % 4096 == 0) _share.CollectOutsideEvents();
        }
        EnsureSession();
    }

    private void Note(string what)
    {
        _recent.Enqueue($"round {_round}: {what}");
        if (_recent.Count > 8) _recent.Dequeue();
    }

    private void Fail(string why) => throw new FuzzFailureException(
        $"fuzz failure, seed {Seed}, round {_round}: {why}{Environment.NewLine}replay: scripts/fuzz.sh --seed {Seed} --seconds <at least as long>" +
        $"{Environment.NewLine}last rounds:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", _recent)}" +
        $"{Environment.NewLine}share log tail:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", LogTail())}");

    private IEnumerable<string> LogTail()
    {
        lock (_share.Log) return _share.Log.TakeLast(10).ToArray();
    }

    private FuseClient Client => _share.Client;

    private static readonly int[] ReplyRooms = [0, 8, 16, 17, 100, 128, 144, 4096, 4096, 4096, 70000, (1 << 20) + 4096];

    private void FuseRound()
    {
        FuseRequests++;
        ulong unique = Client.NextUnique();
        byte[] request = _requests.Next(unique, out uint opcode);
        bool mutated = _random.Next(3) == 0;
        if (mutated)
        {
            request = _requests.Mutate(request);
            Mutated++;
        }
        request = FuzzRequests.Sanitize(request);
        int room = ReplyRooms[_random.Next(ReplyRooms.Length)];
        if (request.Length == 0 && room == 0) room = 16;
        int segments = _random.Next(1, 9);
        bool indirect = _random.Next(2) == 0;
        Note($"FUSE {(FuseOpcode)opcode}{(mutated ? " mutated" : "")}, {request.Length} bytes in {segments} segments, room {room}, indirect {indirect}: {Convert.ToHexString(request.AsSpan(0, Math.Min(request.Length, 96)))}");
        if (!Client.TrySendRaw(request, room, Watchdog, out FuseRawReply reply, segments, indirect))
            Fail($"no reply within {Watchdog.TotalSeconds} s: a hung queue");
        Check(request, room, reply);
        uint sentOpcode = request.Length >= 8 ? BinaryPrimitives.ReadUInt32LittleEndian(request.AsSpan(4)) : 0;
        if (sentOpcode is (uint)FuseOpcode.Init or (uint)FuseOpcode.Destroy) EnsureSession();
        else if (!mutated && reply.UsedLength > 0 && reply.Errno == 0) Learn((FuseOpcode)opcode, request, reply);
    }

    private void Check(byte[] request, int room, FuseRawReply reply)
    {
        uint used = reply.UsedLength;
        if (used == 0) return;   // no reply: FORGET, INTERRUPT, or a request too broken to answer
        Replies++;
        if (used > (uint)room) Fail($"used length {used} exceeds the {room} writable bytes");
        if (request.Length < FuseConstants.InHeaderSize) Fail($"a {request.Length}-byte request (no whole header) got a {used}-byte reply");
        if (used < FuseConstants.OutHeaderSize) Fail($"used length {used} is shorter than fuse_out_header");
        if (reply.HeaderLength != used) Fail($"out_header.len {reply.HeaderLength} but used length {used}");
        ulong unique = BinaryPrimitives.ReadUInt64LittleEndian(request.AsSpan(8));
        if (reply.Unique != unique) Fail($"reply unique {reply.Unique}, request unique {unique}");
        int error = BinaryPrimitives.ReadInt32LittleEndian(reply.Reply.AsSpan(4));
        if (error > 0 || error < -4095) Fail($"out_header.error {error}");
        if (error != 0 && used != FuseConstants.OutHeaderSize) Fail($"error {error} with {used - 16} body bytes");
        Errnos[-error] = Errnos.GetValueOrDefault(-error) + 1;
    }

    /// <summary>Remembers node ids and handles the share handed out, so later requests use live ones.</summary>
    private void Learn(FuseOpcode opcode, byte[] request, FuseRawReply reply)
    {
        ReadOnlySpan<byte> body = reply.Body;
        switch (opcode)
        {
            case FuseOpcode.Lookup or FuseOpcode.Mkdir or FuseOpcode.Mknod or FuseOpcode.Symlink or FuseOpcode.Link when body.Length >= 8:
                Add(_requests.Nodes, BinaryPrimitives.ReadUInt64LittleEndian(body));
                break;
            case FuseOpcode.Create when body.Length >= 136:
                Add(_requests.Nodes, BinaryPrimitives.ReadUInt64LittleEndian(body));
                Add(_requests.Handles, BinaryPrimitives.ReadUInt64LittleEndian(body[128..]));
                break;
            case FuseOpcode.Open or FuseOpcode.Opendir when body.Length >= 8:
                Add(_requests.Handles, BinaryPrimitives.ReadUInt64LittleEndian(body));
                break;
            case FuseOpcode.Release or FuseOpcode.Releasedir when request.Length >= 48:
                _requests.Handles.Remove(BinaryPrimitives.ReadUInt64LittleEndian(request.AsSpan(40)));
                break;
        }
    }

    private static void Add(List<ulong> pool, ulong value)
    {
        if (pool.Contains(value)) return;
        if (pool.Count >= 256) pool.RemoveAt(1);   // keep the root (nodes[0]) and the newest
        pool.Add(value);
    }

    /// <summary>After INIT, DESTROY or a new frontend: the session answers, or INIT makes it answer.</summary>
    private void EnsureSession()
    {
        if (Client.Getattr(1, out _) == 0) return;
        int errno = Client.Init(out _);
        if (errno != 0 || Client.Getattr(1, out _) != 0) Fail($"the session does not recover with INIT (errno {errno})");
        _requests.Nodes.RemoveRange(1, _requests.Nodes.Count - 1);
        _requests.Handles.Clear();
    }

    private void ChainRound()
    {
        Chains++;
        VirtqueueDriver queue = Client.RequestQueue;
        var memory = _share.Frontend.Memory;
        int n = _random.Next(1, 7);
        ushort[] slots = queue.ReserveDescriptors(n);
        // Somewhere to start: sometimes a valid request at the start of scratch, so chains that survive get served.
        byte[] valid = _requests.Next(Client.NextUnique(), out _);
        memory.Write(_scratch, FuzzRequests.Sanitize(valid).AsSpan(0, Math.Min(valid.Length, 4096)));
        var shape = new List<string>();
        for (int i = 0; i < n; i++)
        {
            (ulong addr, uint len) = Buffer(memory.Size);
            ushort flags = (ushort)_random.Next(8);
            if (i == 0 && _random.Next(4) == 0) { addr = _scratch; len = (uint)valid.Length; flags = F.Next; }
            if ((flags & F.Indirect) != 0 && _random.Next(3) != 0) (addr, len) = IndirectTable(memory.Size);
            ushort next = _random.Next(10) switch
            {
                < 6 => i + 1 < n ? slots[i + 1] : slots[0],
                < 9 => slots[_random.Next(n)],
                _ => (ushort)_random.Next(65536),
            };
            if (i + 1 < n && _random.Next(4) != 0) flags |= F.Next;
            queue.WriteDescriptor(slots[i], addr, len, flags, next);
            shape.Add($"[{slots[i]}: 0x{addr:x}+{len} f{flags} n{next}]");
        }
        Note($"chain {string.Join(' ', shape)}");
        queue.PublishAvail(slots[0]);
        queue.ForceKick();
        if (!queue.WaitUsed(Watchdog, out ushort head, out uint used)) Fail($"raw chain not returned within {Watchdog.TotalSeconds} s");
        if (head != slots[0]) Fail($"used head {head}, published {slots[0]}");
        if (used > ScratchSize + (1u << 20)) Fail($"used length {used} for a chain that offered at most scratch memory");
        queue.ReturnDescriptors(slots);
    }

    /// <summary>A buffer inside scratch (most), outside every region, across the end, at 0 or at an absurd address.</summary>
    private (ulong, uint) Buffer(ulong memorySize) => _random.Next(20) switch
    {
        < 12 => Inside(),
        < 14 => (memorySize + (ulong)_random.Next(1 << 20), (uint)_random.Next(1, 8192)),
        < 16 => (memorySize - (ulong)_random.Next(1, 64), (uint)_random.Next(64, 8192)),
        16 => (0, 0),
        17 => (ulong.MaxValue - (ulong)_random.Next(64), (uint)_random.Next(1, 4096)),
        18 => (_scratch, uint.MaxValue),
        _ => (_scratch + (ulong)_random.Next(ScratchSize), 0),
    };

    private (ulong, uint) Inside()
    {
        int offset = _random.Next(ScratchSize);
        return (_scratch + (ulong)offset, (uint)_random.Next(0, ScratchSize - offset + 1));
    }

    /// <summary>An indirect table of random descriptors (buffers restricted like <see cref="Buffer"/>) in the second half of scratch.</summary>
    private (ulong, uint) IndirectTable(ulong memorySize)
    {
        int entries = _random.Next(1, 40);
        ulong table = _scratch + ScratchSize / 2 + (ulong)(_random.Next(64) * 16);
        byte[] bytes = new byte[entries * 16];
        for (int i = 0; i < entries; i++)
        {
            (ulong addr, uint len) = Buffer(memorySize);
            ushort flags = (ushort)_random.Next(8);
            if (i + 1 < entries && _random.Next(4) != 0) flags |= F.Next;
            F.Encode(bytes.AsSpan(16 * i, 16), addr, len, flags, (ushort)(_random.Next(5) == 0 ? _random.Next(65536) : (i + 1) % entries));
        }
        _share.Frontend.Memory.Write(table, bytes);
        uint length = _random.Next(6) == 0 ? (uint)_random.Next(1, entries * 16 + 20) : (uint)(entries * 16);
        return (table, length);
    }

    private static readonly uint[] VhostCodes = Enumerable.Range(1, 43).Select(c => (uint)c).ToArray();

    private void VhostUserRound()
    {
        VhostMessages++;
        var frontend = _share.Frontend;
        uint code = _random.Next(10) switch
        {
            < 7 => VhostCodes[_random.Next(VhostCodes.Length)],
            < 9 => (uint)_random.Next(0, 100),
            _ => (uint)_random.Next(),
        };
        int size = code switch
        {
            R.GetFeatures or R.GetProtocolFeatures or R.GetQueueNum or R.GetMaxMemSlots or R.SetOwner or R.ResetOwner => 0,
            R.SetVringAddr => 40,
            R.SetMemTable => 8 + 32 * _random.Next(0, 3),
            R.AddMemReg or R.RemMemReg => 40,
            R.GetConfig or R.SetConfig => 12 + _random.Next(0, 50),
            _ => 8,
        };
        if (_random.Next(4) == 0) size = _random.Next(0, 120);
        byte[] payload = new byte[size];
        _random.NextBytes(payload);
        if (size >= 8 && _random.Next(2) == 0) payload.AsSpan(0, 8).Clear();   // small ring indices and region counts
        if (size >= 8 && code == R.SetMemTable) BinaryPrimitives.WriteUInt32LittleEndian(payload, (uint)((size - 8) / 32));
        uint flags = _random.Next(10) switch { 0 => (uint)_random.Next(), < 3 => R.FlagVersion | R.FlagNeedReply, _ => R.FlagVersion };
        int eventfds = code is R.SetVringKick or R.SetVringCall or R.SetVringErr ? 1 : 0;
        if (_random.Next(6) == 0) eventfds = _random.Next(0, 4);
        bool memfd = code is R.SetMemTable or R.AddMemReg or R.RemMemReg && _random.Next(4) != 0;
        Note($"vhost-user {R.Name(code)} ({code}) flags 0x{flags:x} {size} bytes, {eventfds} eventfds{(memfd ? " + memfd" : "")}: {Convert.ToHexString(payload.AsSpan(0, Math.Min(size, 64)))}");
        var fds = new List<SafeFd>();
        try
        {
            for (int i = 0; i < eventfds; i++) fds.Add(SafeFd.Check(Libc.eventfd(0, Libc.EFD_CLOEXEC), "eventfd"));
            int[] raw = fds.Select(f => f.Value).Concat(memfd ? Enumerable.Repeat(frontend.Memory.Fd, Math.Max(1, (size - 8) / 32)) : []).ToArray();
            frontend.SendRaw(code, flags, payload, raw);
        }
        catch (ErrnoException)
        {
            // The share already closed the connection (EPIPE): fine, that is what violations get.
        }
        finally
        {
            foreach (SafeFd fd in fds) fd.Dispose();
        }
        if (_random.Next(2) == 0) Thread.Sleep(_random.Next(20));
        Reconnect();
    }

    private void HangUpRound()
    {
        HangUps++;
        Note("frontend hangs up with a GETATTR and a READ in flight");
        Client.SubmitGetattr(1);
        Client.SubmitRead(1, 0, 0, 4096);
        Client.Kick();
        Reconnect();
    }

    private void Reconnect()
    {
        _share.Frontend.Dispose();
        var deadline = DateTime.UtcNow + Watchdog;
        while (_share.Host.State != ShareState.Listening)
        {
            if (_share.Host.State == ShareState.Failed) Fail($"the share failed: {_share.Host.Failure}");
            if (DateTime.UtcNow > deadline) Fail($"the share stayed {_share.Host.State} after the frontend hung up");
            Thread.Sleep(2);
        }
        try
        {
            _share.Connect();
        }
        catch (Exception e)
        {
            Fail($"a new frontend could not connect: {e.Message}");
        }
        _scratch = _share.Frontend.Memory.Allocate(ScratchSize, 4096);
        _requests.Nodes.RemoveRange(1, _requests.Nodes.Count - 1);
        _requests.Handles.Clear();
    }
}

internal sealed class FuzzFailureException(string message) : Exception(message);
