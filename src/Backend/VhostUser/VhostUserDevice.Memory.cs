using VirtioFs.Backend.Interop;
using VirtioFs.Backend.Memory;
using VirtioFs.Backend.VhostUser.Messages;

namespace VirtioFs.Backend.VhostUser;

// The memory table: SET_MEM_TABLE replaces it, ADD_MEM_REG / REM_MEM_REG edit it (CONFIGURE_MEM_SLOTS). Workers that
// are running keep the snapshot they acquired until their batch ends; regions are unmapped after the last one lets go.
public sealed partial class VhostUserDevice
{
    private void SetMemTable(VhostUserMessage message)
    {
        uint count = message.ReadAt<uint>(0);
        // Layout: u32 nregions, u32 padding, then nregions entries of 32 bytes. Both numbers come from the front-end.
        if (count == 0 || count > VhostUserHeader.MaxFds)
            throw new VhostUserProtocolException($"SET_MEM_TABLE with {count} regions; 1 to {VhostUserHeader.MaxFds} allowed");
        if (message.PayloadLength != 8 + (int)count * MemoryRegionPayload.Size)
            throw new VhostUserProtocolException($"SET_MEM_TABLE with {count} regions must carry {8 + count * MemoryRegionPayload.Size} bytes, not {message.PayloadLength}");
        message.ExpectFds((int)count);

        var regions = new List<MemoryRegion>((int)count);
        try
        {
            for (int i = 0; i < count; i++)
            {
                var entry = message.ReadAt<MemoryRegionPayload>(8 + i * MemoryRegionPayload.Size);
                using SafeFd fd = message.TakeFd(i);
                regions.Add(MemoryRegion.Map(ToInfo(entry), fd));
            }
            GuestMemory table = GuestMemory.Create(regions);
            ReplaceMemory(table);
            _log.Info($"vhost-user: memory table with {count} region(s), {Describe(table)}");
        }
        catch (Exception e) when (e is ArgumentException or ErrnoException)
        {
            throw new VhostUserProtocolException($"SET_MEM_TABLE rejected: {e.Message}", e);
        }
        finally
        {
            // Create() took its own references; drop the ones Map() gave us.
            foreach (MemoryRegion region in regions) region.Release();
        }
    }

    private void AddMemoryRegion(VhostUserMessage message)
    {
        RequireProtocol(ProtocolFeatures.ConfigureMemSlots, VhostUserRequest.AddMemReg);
        message.ExpectFds(1);
        MemoryRegionInfo info = ReadSingleRegion(message);
        using SafeFd fd = message.TakeFd(0);
        MemoryRegion? region = null;
        try
        {
            if (Volatile.Read(ref _memory).Regions.Count >= _options.MaxMemSlots)
                throw new ArgumentException($"all {_options.MaxMemSlots} memory slots are in use");
            region = MemoryRegion.Map(info, fd);
            ReplaceMemory(Volatile.Read(ref _memory).WithRegion(region));
        }
        catch (Exception e) when (e is ArgumentException or ErrnoException)
        {
            throw new VhostUserProtocolException($"ADD_MEM_REG rejected: {e.Message}", e);
        }
        finally
        {
            region?.Release();
        }
    }

    private void RemoveMemoryRegion(VhostUserMessage message)
    {
        RequireProtocol(ProtocolFeatures.ConfigureMemSlots, VhostUserRequest.RemMemReg);
        // QEMU may attach the region's fd to REM_MEM_REG; it is not needed, and CloseUntakenFds closes it.
        MemoryRegionInfo info = ReadSingleRegion(message);
        GuestMemory next = Volatile.Read(ref _memory).WithoutRegion(info, out bool found);
        if (!found)
        {
            next.Release();
            throw new VhostUserProtocolException($"REM_MEM_REG for a region that is not mapped (guest 0x{info.GuestPhysAddr:x}, {info.Size} bytes)");
        }
        ReplaceMemory(next);
    }

    private static MemoryRegionInfo ReadSingleRegion(VhostUserMessage message)
    {
        // struct VhostUserMemRegMsg: u64 padding, then one region.
        if (message.PayloadLength != 8 + MemoryRegionPayload.Size)
            throw new VhostUserProtocolException($"{message.Header.Request} must carry {8 + MemoryRegionPayload.Size} bytes, not {message.PayloadLength}");
        return ToInfo(message.ReadAt<MemoryRegionPayload>(8));
    }

    private static MemoryRegionInfo ToInfo(MemoryRegionPayload p) => new(p.GuestPhysAddr, p.MemorySize, p.UserAddr, p.MmapOffset);

    private void ReplaceMemory(GuestMemory table)
    {
        GuestMemory old = Interlocked.Exchange(ref _memory, table);
        if (!ReferenceEquals(old, GuestMemory.Empty)) old.Release();
    }

    private static string Describe(GuestMemory table)
    {
        ulong total = 0;
        foreach (MemoryRegion r in table.Regions) total += r.Info.Size;
        return $"{total / (1024 * 1024)} MiB";
    }
}
