namespace VirtioFs.Frontend.Memory;

/// <summary>
/// One entry of the memory table sent to the backend: a slice of the memfd seen by the "guest" at
/// <see cref="GuestPhysicalAddress"/> and by the frontend process at <see cref="UserAddress"/> (the address QEMU puts in
/// userspace_addr, which SET_VRING_ADDR uses).
/// </summary>
public sealed record GuestRegion(ulong GuestPhysicalAddress, ulong Size, ulong UserAddress, ulong MmapOffset)
{
    public ulong GuestPhysicalEnd => GuestPhysicalAddress + Size;

    public bool Contains(ulong gpa, ulong length)
        => gpa >= GuestPhysicalAddress && length <= Size && gpa - GuestPhysicalAddress <= Size - length;
}
