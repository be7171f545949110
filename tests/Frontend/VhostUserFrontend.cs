using System.Buffers.Binary;
using VirtioFs.Frontend.Memory;
using VirtioFs.Frontend.VhostUser;
using VirtioFs.Frontend.Virtqueue;

namespace VirtioFs.Frontend;

/// <summary>
/// A vhost-user front-end playing QEMU's part for a vhost-user-fs device: it connects to the backend's socket,
/// negotiates like vhost_user_backend_init + vhost_dev_start, hands over memfd guest RAM and sets up split rings with
/// kick/call eventfds. Everything is encoded here, independently of the backend under test.
/// </summary>
public sealed class VhostUserFrontend : IDisposable
{
    /// <summary>Protocol features this frontend knows how to use (QEMU masks the backend's offer the same way).</summary>
    public static readonly ulong SupportedProtocolFeatures =
        VhostUserFeatures.Bit(VhostUserFeatures.ProtocolMq)
        | VhostUserFeatures.Bit(VhostUserFeatures.ProtocolReplyAck)
        | VhostUserFeatures.Bit(VhostUserFeatures.ProtocolConfigureMemSlots);

    private readonly VhostUserSocket _socket;
    private readonly FrontendOptions _options;
    private readonly VirtqueueDriver[] _queues;
    private readonly List<string> _log = [];

    private VhostUserFrontend(VhostUserSocket socket, FrontendOptions options, GuestRam memory)
    {
        _socket = socket;
        _options = options;
        Memory = memory;
        _queues = new VirtqueueDriver[1 + options.RequestQueues];
    }

    /// <summary>Features the backend offered in GET_FEATURES.</summary>
    public ulong BackendFeatures { get; private set; }
    /// <summary>Features sent in SET_FEATURES.</summary>
    public ulong NegotiatedFeatures { get; private set; }
    /// <summary>Protocol features the backend offered in GET_PROTOCOL_FEATURES (0 if PROTOCOL_FEATURES was not offered).</summary>
    public ulong BackendProtocolFeatures { get; private set; }
    /// <summary>Protocol features sent in SET_PROTOCOL_FEATURES (the offer masked to what we support and enabled).</summary>
    public ulong ProtocolFeatures { get; private set; }
    /// <summary>GET_QUEUE_NUM's answer (1 without MQ).</summary>
    public int BackendQueueNum { get; private set; } = 1;
    /// <summary>GET_MAX_MEM_SLOTS's answer, or 0 when not asked.</summary>
    public ulong BackendMaxMemSlots { get; private set; }
    public GuestRam Memory { get; }
    public FrontendOptions Options => _options;
    public int QueueCount => _queues.Length;
    /// <summary>One line per handshake message sent, for diagnostics.</summary>
    public IReadOnlyList<string> HandshakeLog => _log;

    public bool ReplyAckNegotiated => VhostUserFeatures.Has(ProtocolFeatures, VhostUserFeatures.ProtocolReplyAck);
    public bool EventIdxNegotiated => VhostUserFeatures.Has(NegotiatedFeatures, VhostUserFeatures.RingEventIdx);
    public bool IndirectNegotiated => VhostUserFeatures.Has(NegotiatedFeatures, VhostUserFeatures.RingIndirectDesc);

    /// <summary>Connects to <paramref name="socketPath"/> (retrying until <paramref name="timeout"/>) and runs the whole handshake.</summary>
    public static VhostUserFrontend Connect(string socketPath, FrontendOptions options, TimeSpan timeout)
    {
        if (options.RequestQueues < 1) throw new ArgumentOutOfRangeException(nameof(options), "RequestQueues must be > 0 (QEMU: num-request-queues)");
        var socket = VhostUserSocket.Connect(socketPath, timeout);
        GuestRam? memory = null;
        VhostUserFrontend? frontend = null;
        try
        {
            memory = GuestRam.Create(options.MemorySize, options.MemoryRegions, options.GuestPhysicalBase, options.RegionGap);
            frontend = new VhostUserFrontend(socket, options, memory);
            frontend.Handshake();
            return frontend;
        }
        catch
        {
            if (frontend is not null) frontend.Dispose();
            else { memory?.Dispose(); socket.Dispose(); }
            throw;
        }
    }

    private void Handshake()
    {
        // vhost_user_backend_init
        BackendFeatures = GetU64(VhostUserRequest.GetFeatures);
        bool protocolFeatures = VhostUserFeatures.Has(BackendFeatures, VhostUserFeatures.ProtocolFeatures);
        if (protocolFeatures)
        {
            BackendProtocolFeatures = GetU64(VhostUserRequest.GetProtocolFeatures);
            ulong wanted = SupportedProtocolFeatures;
            if (!_options.ReplyAck) wanted &= ~VhostUserFeatures.Bit(VhostUserFeatures.ProtocolReplyAck);
            if (!_options.ConfigureMemSlots) wanted &= ~VhostUserFeatures.Bit(VhostUserFeatures.ProtocolConfigureMemSlots);
            ProtocolFeatures = BackendProtocolFeatures & wanted;
            SetU64(VhostUserRequest.SetProtocolFeatures, ProtocolFeatures, needReply: false);

            if (VhostUserFeatures.Has(ProtocolFeatures, VhostUserFeatures.ProtocolMq))
            {
                ulong queueNum = GetU64(VhostUserRequest.GetQueueNum);
                BackendQueueNum = (int)Math.Min(queueNum, int.MaxValue);
            }
        }
        if (BackendQueueNum < _queues.Length)
        {
            throw new VhostUserProtocolException(
                $"The maximum number of queues supported by the backend is {BackendQueueNum}; "
                + $"{_queues.Length} needed (hiprio + {_options.RequestQueues} request queues)");
        }
        if (VhostUserFeatures.Has(ProtocolFeatures, VhostUserFeatures.ProtocolConfigureMemSlots))
        {
            BackendMaxMemSlots = GetU64(VhostUserRequest.GetMaxMemSlots);
            if (BackendMaxMemSlots < (ulong)Memory.Regions.Count)
                throw new VhostUserProtocolException($"backend allows {BackendMaxMemSlots} memory slots, {Memory.Regions.Count} needed");
        }

        // vhost_dev_init
        Send(VhostUserRequest.SetOwner, [], []);

        // vhost_dev_start: features, memory table, then each ring.
        ulong virtio = VhostUserFeatures.Bit(VhostUserFeatures.Version1);
        if (_options.IndirectDesc) virtio |= VhostUserFeatures.Bit(VhostUserFeatures.RingIndirectDesc);
        if (_options.EventIdx) virtio |= VhostUserFeatures.Bit(VhostUserFeatures.RingEventIdx);
        virtio &= BackendFeatures;
        if (!VhostUserFeatures.Has(virtio, VhostUserFeatures.Version1))
            throw new VhostUserProtocolException($"backend features 0x{BackendFeatures:x} lack VIRTIO_F_VERSION_1; virtio-fs is modern-only");
        if (protocolFeatures) virtio |= VhostUserFeatures.Bit(VhostUserFeatures.ProtocolFeatures);
        NegotiatedFeatures = virtio;
        SetU64(VhostUserRequest.SetFeatures, NegotiatedFeatures, needReply: false);

        SendMemoryTable();

        for (int i = 0; i < _queues.Length; i++)
        {
            _queues[i] = new VirtqueueDriver(Memory, i, _options.QueueSize, EventIdxNegotiated, IndirectNegotiated);
            StartRing(_queues[i], protocolFeatures);
        }
    }

    private void SendMemoryTable()
    {
        var regions = Memory.Regions;
        bool addMemReg = _options.AddMemRegWhenConfigurable
            && VhostUserFeatures.Has(ProtocolFeatures, VhostUserFeatures.ProtocolConfigureMemSlots);
        if (addMemReg)
        {
            foreach (var region in regions)
            {
                byte[] payload = new byte[8 + 32]; // u64 padding + VhostUserMemoryRegion
                WriteRegion(payload.AsSpan(8), region);
                Send(VhostUserRequest.AddMemReg, payload, [Memory.Fd], needReply: ReplyAckNegotiated);
            }
        }
        else
        {
            byte[] payload = new byte[8 + 32 * regions.Count]; // u32 nregions, u32 padding, regions
            BinaryPrimitives.WriteUInt32LittleEndian(payload, (uint)regions.Count);
            int[] fds = new int[regions.Count];
            for (int i = 0; i < regions.Count; i++)
            {
                WriteRegion(payload.AsSpan(8 + 32 * i), regions[i]);
                fds[i] = Memory.Fd;
            }
            Send(VhostUserRequest.SetMemTable, payload, fds, needReply: ReplyAckNegotiated);
        }
    }

    /// <summary>Encodes a VhostUserMemoryRegion: guest_phys_addr, memory_size, userspace_addr, mmap_offset.</summary>
    public static void WriteRegion(Span<byte> destination, GuestRegion region)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, region.GuestPhysicalAddress);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], region.Size);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], region.UserAddress);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], region.MmapOffset);
    }

    private void StartRing(VirtqueueDriver q, bool protocolFeatures)
    {
        uint index = (uint)q.Index;
        SendState(VhostUserRequest.SetVringNum, index, q.Size);
        SendState(VhostUserRequest.SetVringBase, index, 0);

        byte[] addr = new byte[40]; // index, flags, desc_user_addr, used_user_addr, avail_user_addr, log_guest_addr
        BinaryPrimitives.WriteUInt32LittleEndian(addr, index);
        BinaryPrimitives.WriteUInt32LittleEndian(addr.AsSpan(4), 0);
        BinaryPrimitives.WriteUInt64LittleEndian(addr.AsSpan(8), Memory.UserAddressOf(q.DescriptorTableAddress));
        BinaryPrimitives.WriteUInt64LittleEndian(addr.AsSpan(16), Memory.UserAddressOf(q.UsedRingAddress));
        BinaryPrimitives.WriteUInt64LittleEndian(addr.AsSpan(24), Memory.UserAddressOf(q.AvailRingAddress));
        BinaryPrimitives.WriteUInt64LittleEndian(addr.AsSpan(32), 0);
        Send(VhostUserRequest.SetVringAddr, addr, []);

        // CALL before KICK: the C virtiofsd (libvhost-user) starts a ring on KICK and may write the call fd while a
        // later SET_VRING_CALL is replacing it, failing with EBADF. Any order is legal; this one avoids that race.
        SendVringFd(VhostUserRequest.SetVringCall, index, q.CallFd);
        SendVringFd(VhostUserRequest.SetVringKick, index, q.KickFd);
        if (protocolFeatures)
        {
            byte[] state = new byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(state, index);
            BinaryPrimitives.WriteUInt32LittleEndian(state.AsSpan(4), 1);
            Send(VhostUserRequest.SetVringEnable, state, [], needReply: _options.AckVringEnable && ReplyAckNegotiated);
        }
    }

    private void SendState(uint request, uint index, uint num)
    {
        byte[] state = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(state, index);
        BinaryPrimitives.WriteUInt32LittleEndian(state.AsSpan(4), num);
        Send(request, state, []);
    }

    private void SendVringFd(uint request, uint index, int fd)
    {
        byte[] payload = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, index & VhostUserRequest.VringIndexMask);
        Send(request, payload, [fd]);
    }

    /// <summary>The driver side of ring <paramref name="index"/>: 0 = hiprio, 1.. = request queues.</summary>
    public VirtqueueDriver Queue(int index)
    {
        if (index < 0 || index >= _queues.Length) throw new ArgumentOutOfRangeException(nameof(index), $"0..{_queues.Length - 1}");
        return _queues[index];
    }

    /// <summary>GET_VRING_BASE: stops ring <paramref name="index"/> (as QEMU does on vhost_dev_stop) and returns the next avail index the backend would process.</summary>
    public ulong GetVringBase(int index)
    {
        byte[] state = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(state, (uint)index);
        byte[] reply = Request(VhostUserRequest.GetVringBase, state);
        if (reply.Length != 8) throw new VhostUserProtocolException($"GET_VRING_BASE reply has {reply.Length} bytes, expected 8");
        uint replyIndex = BinaryPrimitives.ReadUInt32LittleEndian(reply);
        if (replyIndex != (uint)index) throw new VhostUserProtocolException($"GET_VRING_BASE reply for ring {replyIndex}, asked for {index}");
        return BinaryPrimitives.ReadUInt32LittleEndian(reply.AsSpan(4));
    }

    /// <summary>Sends any message: header fields as given (size = payload length unless <paramref name="size"/> lies), fds as SCM_RIGHTS.</summary>
    public void SendRaw(uint request, uint flags, ReadOnlySpan<byte> payload, ReadOnlySpan<int> fds, uint? size = null)
        => _socket.Send(request, flags, payload, fds, size);

    public void SendRaw(uint request, uint flags, ReadOnlySpan<byte> payload, ReadOnlySpan<int> fds)
        => _socket.Send(request, flags, payload, fds);

    /// <summary>Reads one message from the backend; false on timeout or disconnect (tell them apart with <see cref="IsBackendConnected"/>).</summary>
    public bool TryReceiveRaw(TimeSpan timeout, out uint request, out uint flags, out byte[] payload)
        => _socket.TryReceive(timeout, out request, out flags, out payload);

    /// <summary>False once the backend has closed the socket.</summary>
    public bool IsBackendConnected() => _socket.IsPeerConnected();

    /// <summary>Sends a request and returns its reply payload, checking request id and reply flag.</summary>
    public byte[] Request(uint request, ReadOnlySpan<byte> payload)
    {
        Send(request, payload, []);
        return ReadReply(request);
    }

    private ulong GetU64(uint request)
    {
        byte[] reply = Request(request, []);
        if (reply.Length != 8) throw new VhostUserProtocolException($"{VhostUserRequest.Name(request)} reply has {reply.Length} bytes, expected 8");
        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(reply);
        _log.Add($"  -> 0x{value:x}");
        return value;
    }

    private void SetU64(uint request, ulong value, bool needReply)
    {
        byte[] payload = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, value);
        Send(request, payload, [], needReply);
    }

    private void Send(uint request, ReadOnlySpan<byte> payload, ReadOnlySpan<int> fds, bool needReply = false)
    {
        uint flags = VhostUserRequest.FlagVersion | (needReply ? VhostUserRequest.FlagNeedReply : 0);
        _log.Add($"{VhostUserRequest.Name(request)} size={payload.Length} fds={fds.Length}{(needReply ? " need_reply" : "")}");
        try
        {
            _socket.Send(request, flags, payload, fds);
        }
        catch (IOException e)
        {
            throw new VhostUserProtocolException($"sending {VhostUserRequest.Name(request)} failed: {e.Message}");
        }
        if (needReply)
        {
            byte[] ack = ReadReply(request);
            if (ack.Length != 8) throw new VhostUserProtocolException($"{VhostUserRequest.Name(request)} ack has {ack.Length} bytes, expected 8");
            ulong status = BinaryPrimitives.ReadUInt64LittleEndian(ack);
            if (status != 0) throw new VhostUserProtocolException($"backend nacked {VhostUserRequest.Name(request)} with status {status}");
        }
    }

    private byte[] ReadReply(uint request)
    {
        if (!_socket.TryReceive(_options.ReplyTimeout, out uint replyRequest, out uint flags, out byte[] payload))
        {
            string why = _socket.IsPeerConnected() ? $"no reply within {_options.ReplyTimeout.TotalSeconds:0.#} s" : "backend closed the socket";
            throw new VhostUserProtocolException($"{VhostUserRequest.Name(request)}: {why}");
        }
        if (replyRequest != request)
            throw new VhostUserProtocolException($"expected a reply to {VhostUserRequest.Name(request)}, got {VhostUserRequest.Name(replyRequest)}");
        if ((flags & VhostUserRequest.FlagReply) == 0 || (flags & 0x3) != VhostUserRequest.FlagVersion)
            throw new VhostUserProtocolException($"reply to {VhostUserRequest.Name(request)} has flags 0x{flags:x} (want version 1 + reply bit)");
        return payload;
    }

    public void Dispose()
    {
        _socket.Dispose();
        foreach (var q in _queues) q?.Dispose();
        Memory.Dispose();
    }
}
