using System.Runtime.InteropServices;
using System.Text;
using VirtioFs.Backend.Interop;
using VirtioFs.Backend.Memory;
using VirtioFs.Backend.Share;
using VirtioFs.Backend.VhostUser.Messages;
using VirtioFs.Backend.Virtqueue;

namespace VirtioFs.Backend.VhostUser;

/// <summary>
/// The back-end side of one vhost-user session: feature negotiation, the memory table, ring setup, ring start and
/// stop. Every message goes through three visible steps: validate (sizes, fd counts, indices: the front-end is
/// trusted less than the host), dispatch, then reply or REPLY_ACK. A message that breaks the protocol throws
/// <see cref="VhostUserProtocolException"/>, which ends this connection only.
/// </summary>
public sealed partial class VhostUserDevice : IDisposable
{
    private readonly VhostUserDeviceOptions _options;
    private readonly IRingWorkerFactory _workers;
    private readonly ShareLog _log;
    private readonly Vring[] _rings;
    private readonly IRingWorker?[] _running;
    private GuestMemory _memory = GuestMemory.Empty;
    private ulong _features;
    private ProtocolFeatures _protocolFeatures;
    private bool _featuresSet;

    public VhostUserDevice(VhostUserDeviceOptions options, IRingWorkerFactory workers, ShareLog log)
    {
        _options = options;
        _workers = workers;
        _log = log;
        _rings = new Vring[options.QueueCount];
        _running = new IRingWorker?[options.QueueCount];
        for (int i = 0; i < _rings.Length; i++) _rings[i] = new Vring(i, options.MaxQueueSize);
    }

    /// <summary>Protocol features we offer. CONFIG only with a configured tag (see <see cref="VhostUserDeviceOptions.ConfigTag"/>).</summary>
    public ProtocolFeatures OfferedProtocolFeatures =>
        ProtocolFeatures.Mq | ProtocolFeatures.ReplyAck | ProtocolFeatures.ConfigureMemSlots | ProtocolFeatures.ResetDevice
        | (_options.ConfigTag is null ? ProtocolFeatures.None : ProtocolFeatures.Config);

    public ulong AckedFeatures => _features;

    public IReadOnlyList<Vring> Rings => _rings;

    /// <summary>
    /// The current memory table. A worker takes a reference (<see cref="GuestMemory.TryAcquire"/>) for each batch;
    /// this returns a snapshot that is already acquired, or null when there is no memory.
    /// </summary>
    public GuestMemory? AcquireMemory()
    {
        while (true)
        {
            GuestMemory memory = Volatile.Read(ref _memory);
            if (memory.Regions.Count == 0) return null;
            if (memory.TryAcquire()) return memory;
            // Replaced and fully released between the read and the acquire: read the new one.
        }
    }

    /// <summary>Handles one message; replies on <paramref name="connection"/> where the protocol asks for it.</summary>
    public void Handle(VhostUserMessage message, VhostUserConnection connection)
    {
        VhostUserRequest request = message.Header.Request;
        if (_log.IsEnabled(ShareLogLevel.Debug))
            _log.Debug($"vhost-user: {request} ({message.PayloadLength} bytes, {message.FdCount} fds)");
        bool ok = true;
        switch (request)
        {
            // Requests with a reply of their own.
            case VhostUserRequest.GetFeatures:
                ExpectEmpty(message);
                connection.SendReply(request, VirtioFeatures.Offered);
                return;
            case VhostUserRequest.GetProtocolFeatures:
                ExpectEmpty(message);
                connection.SendReply(request, (ulong)OfferedProtocolFeatures);
                return;
            case VhostUserRequest.GetQueueNum:
                ExpectEmpty(message);
                connection.SendReply(request, (ulong)_options.QueueCount);
                return;
            case VhostUserRequest.GetMaxMemSlots:
                ExpectEmpty(message);
                RequireProtocol(ProtocolFeatures.ConfigureMemSlots, request);
                connection.SendReply(request, (ulong)_options.MaxMemSlots);
                return;
            case VhostUserRequest.GetVringBase:
                VringState stopped = GetVringBase(message);
                connection.SendReply(request, MemoryMarshal.AsBytes(new ReadOnlySpan<VringState>(in stopped)));
                return;
            case VhostUserRequest.GetConfig:
                SendConfig(message, connection);
                return;

            // Requests answered only by REPLY_ACK.
            case VhostUserRequest.SetFeatures: SetFeatures(message); break;
            case VhostUserRequest.SetProtocolFeatures: SetProtocolFeatures(message); break;
            case VhostUserRequest.SetOwner: ExpectEmpty(message); break;
            case VhostUserRequest.ResetOwner: ExpectEmpty(message); ResetDevice("RESET_OWNER"); break;
            case VhostUserRequest.ResetDevice:
                ExpectEmpty(message);
                RequireProtocol(ProtocolFeatures.ResetDevice, request);
                ResetDevice("RESET_DEVICE");
                break;
            case VhostUserRequest.SetMemTable: SetMemTable(message); break;
            case VhostUserRequest.AddMemReg: AddMemoryRegion(message); break;
            case VhostUserRequest.RemMemReg: RemoveMemoryRegion(message); break;
            case VhostUserRequest.SetVringNum: SetVringNum(message); break;
            case VhostUserRequest.SetVringAddr: SetVringAddr(message); break;
            case VhostUserRequest.SetVringBase: SetVringBase(message); break;
            case VhostUserRequest.SetVringKick: SetVringKick(message); break;
            case VhostUserRequest.SetVringCall: SetVringCall(message); break;
            case VhostUserRequest.SetVringErr: SetVringErr(message); break;
            case VhostUserRequest.SetVringEnable: SetVringEnable(message); break;
            case VhostUserRequest.SetConfig:
                // The virtio-fs config space (tag, queue count) is read-only. The front-end may repeat this at will:
                // rate limited like guest errors, so it cannot flood the host's log.
                _log.GuestError(0, static _ => "vhost-user: SET_CONFIG refused: the virtio-fs configuration space is read-only");
                ok = false;
                break;
            case VhostUserRequest.SetLogBase:
            case VhostUserRequest.SetLogFd:
                // We offer neither LOG_ALL nor LOG_SHMFD, so QEMU blocks migration and should never send these; a
                // front-end that does gets a failed ack (if it asked) and its fds closed, and no unsolicited reply.
                _log.GuestError(request, static r => $"vhost-user: {r} refused: dirty-page logging (migration) is not supported");
                ok = false;
                break;
            case VhostUserRequest.SetBackendReqFd:
                _log.GuestError(0, static _ => "vhost-user: SET_BACKEND_REQ_FD ignored: BACKEND_REQ was not offered");
                ok = false;
                break;
            default:
                throw new VhostUserProtocolException(
                    Enum.IsDefined(request)
                        ? $"front-end sent {request} ({(uint)request}), which this back-end did not offer"
                        : $"front-end sent unknown request code {(uint)request}");
        }
        if (message.Header.NeedsReply && (_protocolFeatures & ProtocolFeatures.ReplyAck) != 0)
            connection.SendReply(request, ok ? 0UL : 1UL);
    }

    private static void ExpectEmpty(VhostUserMessage message)
    {
        message.ExpectFds(0);
        // QEMU sends GET_* with size 0; some front-ends send a zero u64. Anything else is malformed.
        if (message.PayloadLength != 0 && message.PayloadLength != 8)
            throw new VhostUserProtocolException($"{message.Header.Request} carries {message.PayloadLength} payload bytes; none expected");
    }

    private void RequireProtocol(ProtocolFeatures feature, VhostUserRequest request)
    {
        if ((_protocolFeatures & feature) == 0)
            throw new VhostUserProtocolException($"front-end sent {request} without negotiating {feature}");
    }

    private void SetFeatures(VhostUserMessage message)
    {
        message.ExpectFds(0);
        ulong features = message.ReadExact<ulong>();
        if ((features & ~VirtioFeatures.Offered) != 0)
            throw new VhostUserProtocolException($"SET_FEATURES 0x{features:x} includes bits we did not offer (0x{features & ~VirtioFeatures.Offered:x})");
        _features = features;
        _featuresSet = true;
        bool eventIdx = (features & VirtioFeatures.RingEventIdx) != 0;
        bool indirect = (features & VirtioFeatures.RingIndirectDesc) != 0;
        foreach (Vring ring in _rings)
        {
            ring.Queue.EventIdx = eventIdx;
            ring.Queue.IndirectDescriptors = indirect;
            // Without PROTOCOL_FEATURES there is no SET_VRING_ENABLE: rings are enabled as soon as they start.
            if ((features & VirtioFeatures.ProtocolFeatures) == 0) ring.Enabled = true;
        }
        _log.Info($"vhost-user: features 0x{features:x} (EVENT_IDX {(eventIdx ? "on" : "off")}, INDIRECT_DESC {(indirect ? "on" : "off")})");
    }

    private void SetProtocolFeatures(VhostUserMessage message)
    {
        message.ExpectFds(0);
        var features = (ProtocolFeatures)message.ReadExact<ulong>();
        if ((features & ~OfferedProtocolFeatures) != 0)
            throw new VhostUserProtocolException($"SET_PROTOCOL_FEATURES 0x{(ulong)features:x} includes bits we did not offer");
        _protocolFeatures = features;
    }

    private void SendConfig(VhostUserMessage message, VhostUserConnection connection)
    {
        message.ExpectFds(0);
        var header = message.ReadAt<ConfigHeader>(0);
        // The virtio-fs config space: u8 tag[36] (NUL-padded) then le32 num_request_queues (virtio_fs.h).
        Span<byte> space = stackalloc byte[40];
        space.Clear();
        bool ok = _options.ConfigTag is not null && (_protocolFeatures & ProtocolFeatures.Config) != 0
            && header.Offset <= 40 && header.PayloadSize <= 40 - header.Offset
            && message.PayloadLength == ConfigHeader.Size + header.PayloadSize;
        if (ok)
        {
            Encoding.UTF8.GetBytes(_options.ConfigTag!, space[..36]);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(space[36..], (uint)_options.RequestQueues);
        }
        else
        {
            _log.GuestError(header, static h => $"vhost-user: GET_CONFIG offset {h.Offset} size {h.PayloadSize} refused");
        }
        // A reply with size 0 tells the front-end that GET_CONFIG failed (vhost-user.rst).
        int size = ok ? (int)header.PayloadSize : 0;
        byte[] reply = new byte[ConfigHeader.Size + size];
        var replyHeader = new ConfigHeader { Offset = header.Offset, PayloadSize = (uint)size, Flags = header.Flags };
        MemoryMarshal.Write(reply, in replyHeader);
        if (ok) space.Slice((int)header.Offset, size).CopyTo(reply.AsSpan(ConfigHeader.Size));
        connection.SendReply(VhostUserRequest.GetConfig, ok ? reply : reply.AsSpan(0, ConfigHeader.Size));
    }

    /// <summary>Stops every ring and drops all guest-visible state (a new front-end starts from scratch).</summary>
    public void ResetDevice(string why)
    {
        StopAllRings();
        foreach (Vring ring in _rings) ring.Reset(keepConfiguration: false);
        _workers.ResetDeviceState();
        _featuresSet = false;
        _features = 0;
        _protocolFeatures = ProtocolFeatures.None;
        ReplaceMemory(GuestMemory.Empty);
        _log.Info($"vhost-user: device reset ({why})");
    }

    public void Dispose() => ResetDevice("connection closed");
}
