using Microsoft.Win32.SafeHandles;
using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.Memory;

/// <summary>
/// One region of guest RAM, mapped from the fd the frontend sent with SET_MEM_TABLE or ADD_MEM_REG.
/// <para>
/// The mapping is MAP_SHARED (the guest must see what we write), PROT_READ|PROT_WRITE and MAP_NORESERVE (guest RAM is
/// often far larger than what is resident). Like libvhost-user we map the fd from offset 0 for Size + MmapOffset bytes
/// and start the region at base + MmapOffset: mmap offsets must be page aligned, the frontend's MmapOffset need not be.
/// </para>
/// <para>
/// Reference counted: <see cref="Map"/> returns a region holding one reference, owned by the caller; every
/// <see cref="GuestMemory"/> snapshot that lists the region holds another. The mapping goes away with the last
/// <see cref="Release"/>, so a queue thread that still holds an old snapshot never touches unmapped memory.
/// </para>
/// </summary>
public sealed unsafe class MemoryRegion
{
    private readonly nuint _mapLength;
    private byte* _mapBase;
    private int _refs;

    private MemoryRegion(MemoryRegionInfo info, byte* mapBase, nuint mapLength)
    {
        Info = info;
        _mapBase = mapBase;
        _mapLength = mapLength;
        HostAddress = mapBase + info.MmapOffset;
        _refs = 1;
    }

    public MemoryRegionInfo Info { get; }

    /// <summary>Start of the guest region in our address space (guest address Info.GuestPhysAddr maps here).</summary>
    public byte* HostAddress { get; }

    /// <summary>Exclusive end of the guest-physical range. Cannot overflow: <see cref="Map"/> checked it.</summary>
    public ulong GuestEnd => Info.GuestPhysAddr + Info.Size;

    /// <summary>Exclusive end of the frontend's virtual range. Cannot overflow: <see cref="Map"/> checked it.</summary>
    public ulong UserEnd => Info.UserAddr + Info.Size;

    /// <summary>True until the last reference is released and the region unmapped.</summary>
    public bool IsMapped => Volatile.Read(ref _refs) > 0;

    /// <summary>Current number of references (for diagnostics and tests; stale as soon as it is read).</summary>
    public int ReferenceCount => Volatile.Read(ref _refs);

    /// <summary>
    /// Validates a region description from the frontend and maps it. The fd is not kept: the caller may dispose it as
    /// soon as this returns (the mapping holds its own reference to the file).
    /// </summary>
    /// <exception cref="ArgumentException">The description is inconsistent (zero size, arithmetic overflow, an fd
    /// smaller than the region).</exception>
    /// <exception cref="ErrnoException">mmap failed.</exception>
    public static MemoryRegion Map(MemoryRegionInfo info, SafeFd fd)
    {
        ArgumentNullException.ThrowIfNull(fd);
        if (fd.IsInvalid || fd.IsClosed) throw new ArgumentException("The memory region fd is closed or invalid.", nameof(fd));

        // Every number below comes from the frontend's message; none is trusted until checked.
        if (info.Size == 0)
            throw new ArgumentException($"Memory region ({info.Describe()}) has size 0.", nameof(info));
        if (!TryAdd(info.MmapOffset, info.Size, out ulong mapLength64))
            throw new ArgumentException($"Memory region ({info.Describe()}): fd offset + size overflows.", nameof(info));
        if (!TryAdd(info.GuestPhysAddr, info.Size, out _))
            throw new ArgumentException($"Memory region ({info.Describe()}): guest address + size overflows.", nameof(info));
        if (!TryAdd(info.UserAddr, info.Size, out _))
            throw new ArgumentException($"Memory region ({info.Describe()}): user address + size overflows.", nameof(info));
        if (mapLength64 > (ulong)long.MaxValue)
            throw new ArgumentException($"Memory region ({info.Describe()}) is larger than an address space.", nameof(info));

        bool addedRef = false;
        try
        {
            fd.DangerousAddRef(ref addedRef);
            int raw = fd.Value;
            CheckFileLength(raw, mapLength64, info);

            void* p = Libc.mmap(null, (nuint)mapLength64, Libc.PROT_READ | Libc.PROT_WRITE,
                Libc.MAP_SHARED | Libc.MAP_NORESERVE, raw, 0);
            // Compared as an integer, not with Libc.MAP_FAILED: that field's initializer, (void*)-1, overflows under
            // CheckForOverflowUnderflow and would fail Libc's static constructor.
            if ((nuint)p == nuint.MaxValue) throw ErrnoException.FromLast("mmap", $"memory region ({info.Describe()})");
            return new MemoryRegion(info, (byte*)p, (nuint)mapLength64);
        }
        finally
        {
            if (addedRef) fd.DangerousRelease();
        }
    }

    /// <summary>
    /// Touching a MAP_SHARED page beyond the end of the file raises SIGBUS, which would kill the whole process (and
    /// with it the PowerShell session), so a frontend that sends an fd shorter than the region it describes is refused
    /// here. Not a complete defence (the frontend can still truncate the file later), but it catches the mistakes.
    /// Fds that cannot report a length (not seekable) are accepted as they are.
    /// </summary>
    private static void CheckFileLength(int fd, ulong needed, MemoryRegionInfo info)
    {
        using var handle = new SafeFileHandle(fd, ownsHandle: false);
        long length;
        try
        {
            length = RandomAccess.GetLength(handle);
        }
        catch (NotSupportedException)
        {
            return; // a pipe or a character device: nothing to compare against
        }
        if (length >= 0 && (ulong)length < needed)
            throw new ArgumentException(
                $"Memory region ({info.Describe()}) needs {needed} bytes of its fd, but the file has only {length}.",
                nameof(info));
    }

    private static bool TryAdd(ulong a, ulong b, out ulong sum)
    {
        sum = unchecked(a + b);
        return sum >= a;
    }

    /// <summary>Takes one more reference. Throws if the region is already unmapped (a caller bug, never guest input).</summary>
    public void AddRef()
    {
        if (!TryAddRef()) throw new ObjectDisposedException(nameof(MemoryRegion), "The memory region is already unmapped.");
    }

    /// <summary>Takes one more reference unless the count already reached zero.</summary>
    internal bool TryAddRef()
    {
        int current = Volatile.Read(ref _refs);
        while (current > 0)
        {
            int seen = Interlocked.CompareExchange(ref _refs, current + 1, current);
            if (seen == current) return true;
            current = seen;
        }
        return false;
    }

    /// <summary>Drops one reference; the last one unmaps the region.</summary>
    public void Release()
    {
        int left = Interlocked.Decrement(ref _refs);
        if (left > 0) return;
        if (left < 0)
        {
            Interlocked.Increment(ref _refs); // keep the count pinned at zero for later diagnostics
            throw new InvalidOperationException("MemoryRegion.Release called more often than AddRef.");
        }
        byte* mapBase = _mapBase;
        _mapBase = null;
        // munmap only fails for arguments we produced ourselves; nothing useful can be done about it here.
        Libc.munmap(mapBase, _mapLength);
    }

    public override string ToString() => $"MemoryRegion({Info.Describe()}, host 0x{(ulong)HostAddress:x})";
}
