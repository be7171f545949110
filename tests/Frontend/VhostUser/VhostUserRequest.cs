namespace VirtioFs.Frontend.VhostUser;

/// <summary>Front-end → back-end message ids (docs/interop/vhost-user.rst), written out here independently of the backend.</summary>
public static class VhostUserRequest
{
    public const uint GetFeatures = 1;
    public const uint SetFeatures = 2;
    public const uint SetOwner = 3;
    public const uint ResetOwner = 4;
    public const uint SetMemTable = 5;
    public const uint SetLogBase = 6;
    public const uint SetLogFd = 7;
    public const uint SetVringNum = 8;
    public const uint SetVringAddr = 9;
    public const uint SetVringBase = 10;
    public const uint GetVringBase = 11;
    public const uint SetVringKick = 12;
    public const uint SetVringCall = 13;
    public const uint SetVringErr = 14;
    public const uint GetProtocolFeatures = 15;
    public const uint SetProtocolFeatures = 16;
    public const uint GetQueueNum = 17;
    public const uint SetVringEnable = 18;
    public const uint SendRarp = 19;
    public const uint NetSetMtu = 20;
    public const uint SetBackendReqFd = 21;
    public const uint IotlbMsg = 22;
    public const uint SetVringEndian = 23;
    public const uint GetConfig = 24;
    public const uint SetConfig = 25;
    public const uint GetInflightFd = 31;
    public const uint SetInflightFd = 32;
    public const uint ResetDevice = 34;
    public const uint GetMaxMemSlots = 36;
    public const uint AddMemReg = 37;
    public const uint RemMemReg = 38;
    public const uint SetDeviceStateFd = 42;
    public const uint CheckDeviceState = 43;

    /// <summary>Header flags: version 1 in bits 0-1, reply bit 2, need_reply bit 3.</summary>
    public const uint FlagVersion = 0x1;
    public const uint FlagReply = 0x4;
    public const uint FlagNeedReply = 0x8;

    /// <summary>SET_VRING_KICK/CALL/ERR payload: ring index in bits 0-7, bit 8 = no fd.</summary>
    public const ulong VringIndexMask = 0xFF;
    public const ulong VringNoFd = 0x100;

    public const int HeaderSize = 12;

    public static string Name(uint request) => request switch
    {
        GetFeatures => "GET_FEATURES", SetFeatures => "SET_FEATURES", SetOwner => "SET_OWNER", ResetOwner => "RESET_OWNER",
        SetMemTable => "SET_MEM_TABLE", SetLogBase => "SET_LOG_BASE", SetLogFd => "SET_LOG_FD",
        SetVringNum => "SET_VRING_NUM", SetVringAddr => "SET_VRING_ADDR", SetVringBase => "SET_VRING_BASE",
        GetVringBase => "GET_VRING_BASE", SetVringKick => "SET_VRING_KICK", SetVringCall => "SET_VRING_CALL",
        SetVringErr => "SET_VRING_ERR", GetProtocolFeatures => "GET_PROTOCOL_FEATURES",
        SetProtocolFeatures => "SET_PROTOCOL_FEATURES", GetQueueNum => "GET_QUEUE_NUM", SetVringEnable => "SET_VRING_ENABLE",
        SetBackendReqFd => "SET_BACKEND_REQ_FD", GetConfig => "GET_CONFIG", SetConfig => "SET_CONFIG",
        GetInflightFd => "GET_INFLIGHT_FD", SetInflightFd => "SET_INFLIGHT_FD", ResetDevice => "RESET_DEVICE",
        GetMaxMemSlots => "GET_MAX_MEM_SLOTS", AddMemReg => "ADD_MEM_REG", RemMemReg => "REM_MEM_REG",
        SetDeviceStateFd => "SET_DEVICE_STATE_FD", CheckDeviceState => "CHECK_DEVICE_STATE",
        _ => $"request {request}",
    };
}
