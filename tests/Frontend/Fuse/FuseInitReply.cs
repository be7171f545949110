using System.Buffers.Binary;

namespace VirtioFs.Frontend.Fuse;

/// <summary>struct fuse_init_out, decoded from however many bytes the daemon sent (24 for minor &lt; 23, 64 since).</summary>
public readonly record struct FuseInitReply(
    uint Major, uint Minor, uint MaxReadahead, ulong Flags, ushort MaxBackground, ushort CongestionThreshold,
    uint MaxWrite, uint TimeGran, ushort MaxPages, ushort MapAlignment, int Length)
{
    public static FuseInitReply Decode(ReadOnlySpan<byte> b)
    {
        Span<byte> full = stackalloc byte[FuseConstants.InitOutSize];
        full.Clear();
        b[..Math.Min(b.Length, full.Length)].CopyTo(full);
        ulong flags = BinaryPrimitives.ReadUInt32LittleEndian(full[12..]) | ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(full[32..]) << 32);
        return new FuseInitReply(
            BinaryPrimitives.ReadUInt32LittleEndian(full), BinaryPrimitives.ReadUInt32LittleEndian(full[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(full[8..]), flags,
            BinaryPrimitives.ReadUInt16LittleEndian(full[16..]), BinaryPrimitives.ReadUInt16LittleEndian(full[18..]),
            BinaryPrimitives.ReadUInt32LittleEndian(full[20..]), BinaryPrimitives.ReadUInt32LittleEndian(full[24..]),
            BinaryPrimitives.ReadUInt16LittleEndian(full[28..]), BinaryPrimitives.ReadUInt16LittleEndian(full[30..]), b.Length);
    }
}
