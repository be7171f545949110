using System.Runtime.InteropServices;

namespace VirtioFs.Backend.VhostUser;

/// <summary>The 12-byte header in front of every vhost-user message, in host byte order.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct VhostUserHeader
{
    public const int Size = 12;

    /// <summary>Bits 0-1: protocol version, always 1.</summary>
    public const uint VersionMask = 0x3;
    public const uint Version = 0x1;
    /// <summary>Set on every back-end reply.</summary>
    public const uint ReplyFlag = 0x4;
    /// <summary>REPLY_ACK: the front-end wants a u64 status for a message that has no reply of its own.</summary>
    public const uint NeedReplyFlag = 0x8;

    /// <summary>Largest payload we accept. rust-vmm's MAX_MSG_SIZE; the largest real message (a full memory table) is 264 bytes.</summary>
    public const int MaxPayload = 0x1000;

    /// <summary>Most file descriptors one message may carry (vhost-user.rst: 8).</summary>
    public const int MaxFds = 8;

    public VhostUserRequest Request;
    public uint Flags;
    public uint PayloadSize;

    public readonly bool NeedsReply => (Flags & NeedReplyFlag) != 0;
}
