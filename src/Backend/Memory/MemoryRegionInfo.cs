namespace VirtioFs.Backend.Memory;

/// <summary>
/// One entry of VHOST_USER_SET_MEM_TABLE or VHOST_USER_ADD_MEM_REG, as the frontend sent it: where the region sits in
/// guest-physical space, where the frontend (QEMU) has it mapped in its own address space (ring addresses arrive in
/// those terms), and at which offset of the accompanying fd it starts. Nothing here is checked yet:
/// <see cref="MemoryRegion.Map"/> does that.
/// </summary>
public readonly record struct MemoryRegionInfo(ulong GuestPhysAddr, ulong Size, ulong UserAddr, ulong MmapOffset)
{
    /// <summary>"guest 0x..-0x.., user 0x.., offset 0x.., size 0x..": for error messages and logs.</summary>
    public string Describe()
        => $"guest 0x{GuestPhysAddr:x} size 0x{Size:x}, user 0x{UserAddr:x}, fd offset 0x{MmapOffset:x}";
}
