using VirtioFs.Backend.Fuse.Abi;

namespace VirtioFs.Backend.Share;

/// <summary>Names for the per-opcode statistics: "Lookup", "Read", ... as the FUSE ABI enum spells them.</summary>
internal static class FuseOpcodeNames
{
    public static string Of(uint opcode)
        => Enum.IsDefined((FuseOpcode)opcode) ? ((FuseOpcode)opcode).ToString() : $"Opcode{opcode}";
}
