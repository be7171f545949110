namespace VirtioFs.Frontend.Fuse;

/// <summary>Sizes, INIT flags and request flags of FUSE 7.36 (what Linux 6.1 speaks).</summary>
public static class FuseConstants
{
    public const int InHeaderSize = 40;
    public const int OutHeaderSize = 16;
    public const int EntryOutSize = 128;
    public const int AttrSize = 88;
    public const int AttrOutSize = 104;
    public const int OpenOutSize = 16;
    public const int InitInSize = 64;
    public const int InitOutSize = 64;
    public const int StatfsOutSize = 80;
    public const int ReadInSize = 40;
    public const int WriteInSize = 40;
    public const int WriteOutSize = 8;
    public const int SetattrInSize = 88;
    public const int DirentHeaderSize = 24;

    /// <summary>C# has no octal literals: <c>Oct(755)</c> reads the decimal digits as octal (0x1ED).</summary>
    public static uint Oct(uint digits)
    {
        uint value = 0, scale = 1;
        for (; digits > 0; digits /= 10, scale *= 8)
        {
            uint d = digits % 10;
            if (d > 7) throw new ArgumentException($"{d} is not an octal digit");
            value += d * scale;
        }
        return value;
    }

    public const uint KernelMajor = 7;
    public const uint KernelMinor = 36;
    public const ulong RootNodeId = 1;

    // INIT flags (fuse_init_in.flags; bits 32-63 go in flags2 with FUSE_INIT_EXT).
    public const ulong AsyncRead = 1UL << 0, PosixLocks = 1UL << 1, AtomicOTrunc = 1UL << 3, ExportSupport = 1UL << 4,
        BigWrites = 1UL << 5, DontMask = 1UL << 6, SpliceWrite = 1UL << 7, SpliceMove = 1UL << 8, SpliceRead = 1UL << 9,
        FlockLocks = 1UL << 10, HasIoctlDir = 1UL << 11, AutoInvalData = 1UL << 12, DoReaddirplus = 1UL << 13,
        ReaddirplusAuto = 1UL << 14, AsyncDio = 1UL << 15, WritebackCache = 1UL << 16, NoOpenSupport = 1UL << 17,
        ParallelDirops = 1UL << 18, HandleKillpriv = 1UL << 19, PosixAcl = 1UL << 20, AbortError = 1UL << 21,
        MaxPages = 1UL << 22, CacheSymlinks = 1UL << 23, NoOpendirSupport = 1UL << 24, ExplicitInvalData = 1UL << 25,
        MapAlignment = 1UL << 26, Submounts = 1UL << 27, HandleKillprivV2 = 1UL << 28, SetxattrExt = 1UL << 29,
        InitExt = 1UL << 30, SecurityCtx = 1UL << 32;

    /// <summary>What fuse_send_init offers on a Linux 6.1 virtiofs mount without DAX (auto_submounts on).</summary>
    public const ulong Linux61InitFlags = AsyncRead | PosixLocks | AtomicOTrunc | ExportSupport | BigWrites | DontMask
        | SpliceWrite | SpliceMove | SpliceRead | FlockLocks | HasIoctlDir | AutoInvalData | DoReaddirplus | ReaddirplusAuto
        | AsyncDio | WritebackCache | NoOpenSupport | ParallelDirops | HandleKillpriv | PosixAcl | AbortError | MaxPages
        | CacheSymlinks | NoOpendirSupport | ExplicitInvalData | Submounts | HandleKillprivV2 | SetxattrExt | InitExt;

    // fuse_setattr_in.valid
    public const uint FattrMode = 1, FattrUid = 2, FattrGid = 4, FattrSize = 8, FattrAtime = 16, FattrMtime = 32,
        FattrFh = 64, FattrAtimeNow = 128, FattrMtimeNow = 256, FattrLockOwner = 512, FattrCtime = 1024, FattrKillSuidgid = 2048;

    // RENAME2 flags (linux/fs.h)
    public const uint RenameNoreplace = 1, RenameExchange = 2, RenameWhiteout = 4;

    // open(2) flags and file type bits used by tests.
    public const uint O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_EXCL = 0x80, O_TRUNC = 0x200,
        O_APPEND = 0x400, O_DIRECTORY = 0x10000, O_NOFOLLOW = 0x20000;
    public const uint S_IFMT = 0xF000, S_IFSOCK = 0xC000, S_IFLNK = 0xA000, S_IFREG = 0x8000, S_IFBLK = 0x6000,
        S_IFDIR = 0x4000, S_IFCHR = 0x2000, S_IFIFO = 0x1000;
}
