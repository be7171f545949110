using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Interop;
using Xunit;

namespace VirtioFs.Tests.Fuse;

/// <summary>
/// Wire structs against include/uapi/linux/fuse.h (7.38). The expected numbers were printed by a C program with
/// sizeof/offsetof against the header on this machine, Tmds.LibC style.
/// </summary>
public class AbiLayoutTests
{
    [Theory]
    [InlineData(typeof(FuseInHeader), 40)]
    [InlineData(typeof(FuseOutHeader), 16)]
    [InlineData(typeof(FuseAttr), 88)]
    [InlineData(typeof(FuseEntryOut), 128)]
    [InlineData(typeof(FuseAttrOut), 104)]
    [InlineData(typeof(FuseInitIn), 64)]
    [InlineData(typeof(FuseInitOut), 64)]
    [InlineData(typeof(FuseForgetIn), 8)]
    [InlineData(typeof(FuseForgetOne), 16)]
    [InlineData(typeof(FuseBatchForgetIn), 8)]
    [InlineData(typeof(FuseGetAttrIn), 16)]
    [InlineData(typeof(FuseMknodIn), 16)]
    [InlineData(typeof(FuseMkdirIn), 8)]
    [InlineData(typeof(FuseRenameIn), 8)]
    [InlineData(typeof(FuseRename2In), 16)]
    [InlineData(typeof(FuseLinkIn), 8)]
    [InlineData(typeof(FuseSetAttrIn), 88)]
    [InlineData(typeof(FuseOpenIn), 8)]
    [InlineData(typeof(FuseCreateIn), 16)]
    [InlineData(typeof(FuseOpenOut), 16)]
    [InlineData(typeof(FuseReleaseIn), 24)]
    [InlineData(typeof(FuseFlushIn), 24)]
    [InlineData(typeof(FuseReadIn), 40)]
    [InlineData(typeof(FuseWriteIn), 40)]
    [InlineData(typeof(FuseWriteOut), 8)]
    [InlineData(typeof(FuseKstatfs), 80)]
    [InlineData(typeof(FuseFsyncIn), 16)]
    [InlineData(typeof(FuseAccessIn), 8)]
    [InlineData(typeof(FuseInterruptIn), 8)]
    [InlineData(typeof(FuseFallocateIn), 32)]
    [InlineData(typeof(FuseLseekIn), 24)]
    [InlineData(typeof(FuseLseekOut), 8)]
    [InlineData(typeof(FuseDirent), 24)]
    [InlineData(typeof(FuseGetxattrIn), 8)]
    [InlineData(typeof(FuseGetxattrOut), 8)]
    [InlineData(typeof(FuseSetxattrIn), 16)]
    public void StructSizeMatchesKernelHeader(Type type, int size)
    {
        Assert.Equal(size, Marshal.SizeOf(type));
        Assert.True(type.IsLayoutSequential);
    }

    [Theory]
    [InlineData(typeof(FuseInHeader), "Unique", 8)]
    [InlineData(typeof(FuseInHeader), "NodeId", 16)]
    [InlineData(typeof(FuseInHeader), "Uid", 24)]
    [InlineData(typeof(FuseInHeader), "Pid", 32)]
    [InlineData(typeof(FuseInHeader), "TotalExtLen", 36)]
    [InlineData(typeof(FuseOutHeader), "Error", 4)]
    [InlineData(typeof(FuseOutHeader), "Unique", 8)]
    [InlineData(typeof(FuseAttr), "AtimeNsec", 48)]
    [InlineData(typeof(FuseAttr), "Mode", 60)]
    [InlineData(typeof(FuseAttr), "Rdev", 76)]
    [InlineData(typeof(FuseAttr), "Flags", 84)]
    [InlineData(typeof(FuseEntryOut), "AttrValid", 24)]
    [InlineData(typeof(FuseEntryOut), "EntryValidNsec", 32)]
    [InlineData(typeof(FuseEntryOut), "Attr", 40)]
    [InlineData(typeof(FuseAttrOut), "Attr", 16)]
    [InlineData(typeof(FuseInitIn), "Flags", 12)]
    [InlineData(typeof(FuseInitIn), "Flags2", 16)]
    [InlineData(typeof(FuseInitOut), "MaxBackground", 16)]
    [InlineData(typeof(FuseInitOut), "CongestionThreshold", 18)]
    [InlineData(typeof(FuseInitOut), "MaxWrite", 20)]
    [InlineData(typeof(FuseInitOut), "TimeGran", 24)]
    [InlineData(typeof(FuseInitOut), "MaxPages", 28)]
    [InlineData(typeof(FuseInitOut), "MapAlignment", 30)]
    [InlineData(typeof(FuseInitOut), "Flags2", 32)]
    [InlineData(typeof(FuseSetAttrIn), "Fh", 8)]
    [InlineData(typeof(FuseSetAttrIn), "Size", 16)]
    [InlineData(typeof(FuseSetAttrIn), "Atime", 32)]
    [InlineData(typeof(FuseSetAttrIn), "AtimeNsec", 56)]
    [InlineData(typeof(FuseSetAttrIn), "Mode", 68)]
    [InlineData(typeof(FuseSetAttrIn), "Uid", 76)]
    [InlineData(typeof(FuseSetAttrIn), "Gid", 80)]
    [InlineData(typeof(FuseReadIn), "Offset", 8)]
    [InlineData(typeof(FuseReadIn), "Size", 16)]
    [InlineData(typeof(FuseReadIn), "LockOwner", 24)]
    [InlineData(typeof(FuseReadIn), "Flags", 32)]
    [InlineData(typeof(FuseWriteIn), "Size", 16)]
    [InlineData(typeof(FuseWriteIn), "WriteFlags", 20)]
    [InlineData(typeof(FuseWriteIn), "Flags", 32)]
    [InlineData(typeof(FuseReleaseIn), "ReleaseFlags", 12)]
    [InlineData(typeof(FuseReleaseIn), "LockOwner", 16)]
    [InlineData(typeof(FuseKstatfs), "Bsize", 40)]
    [InlineData(typeof(FuseKstatfs), "Frsize", 48)]
    [InlineData(typeof(FuseKstatfs), "Spare", 56)]
    [InlineData(typeof(FuseDirent), "NameLen", 16)]
    [InlineData(typeof(FuseDirent), "Type", 20)]
    [InlineData(typeof(FuseFallocateIn), "Length", 16)]
    [InlineData(typeof(FuseFallocateIn), "Mode", 24)]
    [InlineData(typeof(FuseLseekIn), "Whence", 16)]
    public void FieldOffsetMatchesKernelHeader(Type type, string field, int offset)
    {
        Assert.Equal(offset, (int)Marshal.OffsetOf(type, field));
    }

    [Fact]
    public void ConstantsMatchKernelHeader()
    {
        Assert.Equal(24, FuseConstants.DirentNameOffset);
        Assert.Equal(152, FuseConstants.DirentPlusNameOffset);
        Assert.Equal(FuseConstants.DirentPlusNameOffset, Unsafe.SizeOf<FuseEntryOut>() + Unsafe.SizeOf<FuseDirent>());
        Assert.Equal(7u, FuseConstants.KernelVersion);
        Assert.Equal(38u, FuseConstants.KernelMinorVersion);
        Assert.Equal(46u, (uint)FuseOpcode.Lseek);
        Assert.Equal(44u, (uint)FuseOpcode.ReadDirPlus);
        Assert.Equal(1UL << 22, (ulong)FuseInitFlags.MaxPages);
        Assert.Equal(1UL << 30, (ulong)FuseInitFlags.InitExt);
        Assert.Equal(1UL << 32, (ulong)FuseInitFlags.SecurityCtx);
        Assert.Equal(1u << 8, (uint)FuseSetAttrValid.MtimeNow);
    }

    [Fact]
    public unsafe void LibcStructsMatchGlibcLayout()
    {
        Assert.Equal(256, sizeof(Libc.statx_t));
        Assert.Equal(64, (int)Marshal.OffsetOf<Libc.statx_t>(nameof(Libc.statx_t.stx_atime)));
        Assert.Equal(112, (int)Marshal.OffsetOf<Libc.statx_t>(nameof(Libc.statx_t.stx_mtime)));
        Assert.Equal(128, (int)Marshal.OffsetOf<Libc.statx_t>(nameof(Libc.statx_t.stx_rdev_major)));
        Assert.Equal(136, (int)Marshal.OffsetOf<Libc.statx_t>(nameof(Libc.statx_t.stx_dev_major)));
        Assert.Equal(144, (int)Marshal.OffsetOf<Libc.statx_t>(nameof(Libc.statx_t.stx_mnt_id)));
        Assert.Equal(120, sizeof(Libc.statfs_t));
        Assert.Equal(64, (int)Marshal.OffsetOf<Libc.statfs_t>(nameof(Libc.statfs_t.f_namelen)));
        Assert.Equal(72, (int)Marshal.OffsetOf<Libc.statfs_t>(nameof(Libc.statfs_t.f_frsize)));
        Assert.Equal(19, (int)Marshal.OffsetOf<Libc.linux_dirent64>(nameof(Libc.linux_dirent64.d_type)) + 1);
    }
}
