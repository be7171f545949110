using System.Buffers.Binary;

namespace VirtioFs.Frontend.Fuse;

/// <summary>struct fuse_setattr_in: <see cref="Valid"/> says which fields apply (FATTR_*).</summary>
public record struct FuseSetattrIn(
    uint Valid, ulong Fh = 0, ulong Size = 0, ulong LockOwner = 0, ulong Atime = 0, ulong Mtime = 0, ulong Ctime = 0,
    uint AtimeNsec = 0, uint MtimeNsec = 0, uint CtimeNsec = 0, uint Mode = 0, uint Uid = 0, uint Gid = 0)
{
    public static FuseSetattrIn Truncate(ulong size) => new(FuseConstants.FattrSize, Size: size);
    public static FuseSetattrIn Chmod(uint mode) => new(FuseConstants.FattrMode, Mode: mode);
    public static FuseSetattrIn Chown(uint uid, uint gid) => new(FuseConstants.FattrUid | FuseConstants.FattrGid, Uid: uid, Gid: gid);
    public static FuseSetattrIn Times(ulong atime, ulong mtime) => new(FuseConstants.FattrAtime | FuseConstants.FattrMtime, Atime: atime, Mtime: mtime);

    public readonly void Encode(Span<byte> b)
    {
        b[..FuseConstants.SetattrInSize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(b, Valid);
        BinaryPrimitives.WriteUInt64LittleEndian(b[8..], Fh);
        BinaryPrimitives.WriteUInt64LittleEndian(b[16..], Size);
        BinaryPrimitives.WriteUInt64LittleEndian(b[24..], LockOwner);
        BinaryPrimitives.WriteUInt64LittleEndian(b[32..], Atime);
        BinaryPrimitives.WriteUInt64LittleEndian(b[40..], Mtime);
        BinaryPrimitives.WriteUInt64LittleEndian(b[48..], Ctime);
        BinaryPrimitives.WriteUInt32LittleEndian(b[56..], AtimeNsec);
        BinaryPrimitives.WriteUInt32LittleEndian(b[60..], MtimeNsec);
        BinaryPrimitives.WriteUInt32LittleEndian(b[64..], CtimeNsec);
        BinaryPrimitives.WriteUInt32LittleEndian(b[68..], Mode);
        BinaryPrimitives.WriteUInt32LittleEndian(b[76..], Uid);
        BinaryPrimitives.WriteUInt32LittleEndian(b[80..], Gid);
    }
}
