namespace VirtioFs.Backend.VhostUser;

/// <summary>Front-end to back-end message types (docs/interop/vhost-user.rst, "Front-end message types").</summary>
public enum VhostUserRequest : uint
{
    None = 0,
    GetFeatures = 1,            // VHOST_USER_GET_FEATURES
    SetFeatures = 2,            // VHOST_USER_SET_FEATURES
    SetOwner = 3,               // VHOST_USER_SET_OWNER
    ResetOwner = 4,             // VHOST_USER_RESET_OWNER (deprecated)
    SetMemTable = 5,            // VHOST_USER_SET_MEM_TABLE
    SetLogBase = 6,             // VHOST_USER_SET_LOG_BASE
    SetLogFd = 7,               // VHOST_USER_SET_LOG_FD
    SetVringNum = 8,            // VHOST_USER_SET_VRING_NUM
    SetVringAddr = 9,           // VHOST_USER_SET_VRING_ADDR
    SetVringBase = 10,          // VHOST_USER_SET_VRING_BASE
    GetVringBase = 11,          // VHOST_USER_GET_VRING_BASE
    SetVringKick = 12,          // VHOST_USER_SET_VRING_KICK
    SetVringCall = 13,          // VHOST_USER_SET_VRING_CALL
    SetVringErr = 14,           // VHOST_USER_SET_VRING_ERR
    GetProtocolFeatures = 15,   // VHOST_USER_GET_PROTOCOL_FEATURES
    SetProtocolFeatures = 16,   // VHOST_USER_SET_PROTOCOL_FEATURES
    GetQueueNum = 17,           // VHOST_USER_GET_QUEUE_NUM
    SetVringEnable = 18,        // VHOST_USER_SET_VRING_ENABLE
    SendRarp = 19,              // VHOST_USER_SEND_RARP
    NetSetMtu = 20,             // VHOST_USER_NET_SET_MTU
    SetBackendReqFd = 21,       // VHOST_USER_SET_BACKEND_REQ_FD (formerly SET_SLAVE_REQ_FD)
    IotlbMsg = 22,              // VHOST_USER_IOTLB_MSG
    SetVringEndian = 23,        // VHOST_USER_SET_VRING_ENDIAN
    GetConfig = 24,             // VHOST_USER_GET_CONFIG
    SetConfig = 25,             // VHOST_USER_SET_CONFIG
    CreateCryptoSession = 26,   // VHOST_USER_CREATE_CRYPTO_SESSION
    CloseCryptoSession = 27,    // VHOST_USER_CLOSE_CRYPTO_SESSION
    PostcopyAdvise = 28,        // VHOST_USER_POSTCOPY_ADVISE
    PostcopyListen = 29,        // VHOST_USER_POSTCOPY_LISTEN
    PostcopyEnd = 30,           // VHOST_USER_POSTCOPY_END
    GetInflightFd = 31,         // VHOST_USER_GET_INFLIGHT_FD
    SetInflightFd = 32,         // VHOST_USER_SET_INFLIGHT_FD
    GpuSetSocket = 33,          // VHOST_USER_GPU_SET_SOCKET
    ResetDevice = 34,           // VHOST_USER_RESET_DEVICE
    VringKick = 35,             // VHOST_USER_VRING_KICK
    GetMaxMemSlots = 36,        // VHOST_USER_GET_MAX_MEM_SLOTS
    AddMemReg = 37,             // VHOST_USER_ADD_MEM_REG
    RemMemReg = 38,             // VHOST_USER_REM_MEM_REG
    SetStatus = 39,             // VHOST_USER_SET_STATUS
    GetStatus = 40,             // VHOST_USER_GET_STATUS
    GetSharedObject = 41,       // VHOST_USER_GET_SHARED_OBJECT
    SetDeviceStateFd = 42,      // VHOST_USER_SET_DEVICE_STATE_FD
    CheckDeviceState = 43,      // VHOST_USER_CHECK_DEVICE_STATE
}
