namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>FOPEN_* bits in fuse_open_out.open_flags.</summary>
[Flags]
public enum FuseOpenOutFlags : uint
{
    None = 0,
    DirectIo = 1 << 0,
    KeepCache = 1 << 1,
    NonSeekable = 1 << 2,
    CacheDir = 1 << 3,
    Stream = 1 << 4,
    NoFlush = 1 << 5,
    ParallelDirectWrites = 1 << 6,
}
