namespace VirtioFs.Frontend.VhostUser;

/// <summary>Virtio and vhost-user feature bit numbers used by the frontend.</summary>
public static class VhostUserFeatures
{
    // Virtio device feature bits (virtio 1.x, section 6) and the vhost-level bits.
    public const int LogAll = 26;
    public const int RingIndirectDesc = 28;
    public const int RingEventIdx = 29;
    public const int ProtocolFeatures = 30;
    public const int Version1 = 32;
    public const int RingPacked = 34;

    // Protocol feature bits (VHOST_USER_PROTOCOL_F_*).
    public const int ProtocolMq = 0;
    public const int ProtocolLogShmfd = 1;
    public const int ProtocolReplyAck = 3;
    public const int ProtocolBackendReq = 5;
    public const int ProtocolConfig = 9;
    public const int ProtocolBackendSendFd = 10;
    public const int ProtocolInflightShmfd = 12;
    public const int ProtocolResetDevice = 13;
    public const int ProtocolConfigureMemSlots = 15;
    public const int ProtocolStatus = 16;
    public const int ProtocolDeviceState = 19;

    public static ulong Bit(int bit) => 1UL << bit;

    public static bool Has(ulong features, int bit) => (features & Bit(bit)) != 0;
}
