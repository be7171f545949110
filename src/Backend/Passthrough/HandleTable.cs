namespace VirtioFs.Backend.Passthrough;

/// <summary>
/// File handles as (generation &lt;&lt; 32 | slot): a freed slot gets a new generation, so a stale or forged handle
/// from the guest is detected instead of reaching another file. Thread-safe under one short lock.
/// </summary>
internal sealed class HandleTable
{
    private readonly object _gate = new();
    private readonly int _capacity;
    private FileHandle?[] _slots = new FileHandle?[64];
    private uint[] _generations = new uint[64];
    private readonly Stack<int> _free = new();
    private int _highWater;
    private int _count;

    public HandleTable(int capacity) => _capacity = capacity;

    /// <summary>Open handles; read without the lock (the fd quota checks it on every open).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Stores a handle (the table takes over its reference); false when the table is full.</summary>
    public bool TryAdd(FileHandle handle, out ulong fh)
    {
        lock (_gate)
        {
            fh = 0;
            if (_count >= _capacity) return false;
            int slot;
            if (_free.Count > 0)
            {
                slot = _free.Pop();
            }
            else
            {
                if (_highWater == _slots.Length)
                {
                    Array.Resize(ref _slots, _slots.Length * 2);
                    Array.Resize(ref _generations, _generations.Length * 2);
                }
                slot = _highWater++;
            }
            if (_generations[slot] == 0) _generations[slot] = 1;
            _slots[slot] = handle;
            _count++;
            fh = ((ulong)_generations[slot] << 32) | (uint)slot;
            return true;
        }
    }

    /// <summary>The handle with an added reference (the caller must Release it), or null when fh is unknown or stale.</summary>
    public FileHandle? Acquire(ulong fh)
    {
        lock (_gate)
        {
            FileHandle? handle = Find(fh);
            handle?.AddReference();
            return handle;
        }
    }

    /// <summary>Takes the handle out of the table; the caller releases the table's reference.</summary>
    public FileHandle? Remove(ulong fh)
    {
        lock (_gate)
        {
            FileHandle? handle = Find(fh);
            if (handle is null) return null;
            int slot = (int)unchecked((uint)fh);
            _slots[slot] = null;
            _generations[slot] = unchecked(_generations[slot] + 1) == 0 ? 1 : unchecked(_generations[slot] + 1);
            _free.Push(slot);
            _count--;
            return handle;
        }
    }

    /// <summary>Closes every handle (DESTROY, INIT, reset).</summary>
    public void Clear()
    {
        List<FileHandle> dropped = new();
        lock (_gate)
        {
            for (int slot = 0; slot < _highWater; slot++)
            {
                if (_slots[slot] is FileHandle handle)
                {
                    dropped.Add(handle);
                    _slots[slot] = null;
                    _generations[slot] = unchecked(_generations[slot] + 1) == 0 ? 1 : unchecked(_generations[slot] + 1);
                    _free.Push(slot);
                }
            }
            _count = 0;
        }
        foreach (FileHandle handle in dropped) handle.Release();
    }

    // Who might lie: the guest hands back any 64-bit value as fh.
    private FileHandle? Find(ulong fh)
    {
        uint slot = unchecked((uint)fh);
        uint generation = (uint)(fh >> 32);
        if (slot >= (uint)_highWater || generation == 0 || _generations[slot] != generation) return null;
        return _slots[slot];
    }
}
