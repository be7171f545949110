using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.Passthrough;

/// <summary>
/// The node-id table: node id → inode and (st_dev, st_ino) → inode, under one short lock. Node ids count up from 2
/// and are never reused, so a stale id from the guest finds nothing rather than somebody else's inode.
/// <para>
/// The same lock guards the cache of O_PATH descriptors of inodes held by file handles: at most
/// <see cref="FdCacheCapacity"/> of them stay open (plus those in use at the moment), chosen by the CLOCK algorithm
/// (recently used ones get a second chance). A cached descriptor is taken from its inode only while the inode is in
/// the table and nobody but the table holds a reference, and closed after the lock is left; a new user must take this
/// lock (<see cref="Acquire"/>) first, so it finds no descriptor and reopens one, and never picks up one being closed.
/// </para>
/// </summary>
internal sealed class InodeStore
{
    /// <summary>Cached descriptors kept by default: enough for the working set of a busy guest, far from any limit.</summary>
    public const int DefaultFdCacheCapacity = 128;

    private readonly object _gate = new();
    private readonly Dictionary<ulong, Inode> _byId = new();
    private readonly Dictionary<InodeKey, Inode> _byKey = new();
    private readonly List<Inode> _cache;
    private int _hand;
    private ulong _nextId = 2;
    private int _heldFds;

    public InodeStore(Inode root, int fdCacheCapacity = DefaultFdCacheCapacity)
    {
        if (fdCacheCapacity < 1) throw new ArgumentOutOfRangeException(nameof(fdCacheCapacity));
        Root = root;
        FdCacheCapacity = fdCacheCapacity;
        _cache = new List<Inode>(fdCacheCapacity);
        _byId.Add(root.NodeId, root);
        _byKey.Add(root.Key, root);
        _heldFds = root.HoldsFd ? 1 : 0;
    }

    /// <summary>Node id 1, the shared directory: never forgotten.</summary>
    public Inode Root { get; }

    public int FdCacheCapacity { get; }

    public int Count
    {
        get
        {
            lock (_gate) return _byId.Count;
        }
    }

    /// <summary>Inodes that hold a descriptor for their whole life (not counting cached ones): what the fd quota counts.</summary>
    public int HeldFdCount => Volatile.Read(ref _heldFds);

    /// <summary>Cached descriptors of handle-held inodes open right now (at most the capacity plus those in use).</summary>
    public int CachedFdCount
    {
        get
        {
            lock (_gate)
            {
                int open = 0;
                foreach (Inode inode in _cache)
                {
                    if (inode.InTable && inode.FdIsCached && inode.CurrentFd >= 0) open++;
                }
                return open;
            }
        }
    }

    /// <summary>The inode with an added reference (the caller must Release it), or null for an unknown id.</summary>
    public Inode? Acquire(ulong nodeId)
    {
        lock (_gate)
        {
            if (!_byId.TryGetValue(nodeId, out Inode? inode)) return null;
            inode.AddReference();
            return inode;
        }
    }

    /// <summary>
    /// Adds one lookup for the inode behind <paramref name="fd"/> (an O_PATH descriptor this call takes over). A
    /// known inode keeps what it has and this descriptor is closed. A new one is held by <paramref name="fileHandle"/>
    /// on <paramref name="mountFd"/> when given (the descriptor then goes into the cache), else by the descriptor.
    /// </summary>
    public ulong AddLookup(int fd, InodeKey key, uint fileType, ulong mountId, byte[]? fileHandle = null, int mountFd = -1)
    {
        Inode? known;
        ulong nodeId;
        lock (_gate)
        {
            if (_byKey.TryGetValue(key, out known))
            {
                if (known != Root) known.LookupCount++;
                nodeId = known.NodeId;
            }
            else
            {
                Inode inode = fileHandle is null
                    ? new Inode(_nextId++, fd, key, fileType, mountId)
                    : new Inode(_nextId++, fileHandle, mountFd, fd, key, fileType, mountId);
                inode.LookupCount = 1;
                _byId.Add(inode.NodeId, inode);
                _byKey.Add(key, inode);
                if (inode.HoldsFd) _heldFds++;
                fd = inode.HoldsFd ? -1 : AddToCache(inode);   // now the descriptor the cache let go of, if any
                nodeId = inode.NodeId;
            }
        }
        if (fd >= 0) Libc.close(fd);
        return nodeId;
    }

    /// <summary>Adds one lookup to an inode only if it is already known (used for ".."): never a new node.</summary>
    public bool TryAddLookupIfKnown(InodeKey key, out ulong nodeId)
    {
        lock (_gate)
        {
            if (_byKey.TryGetValue(key, out Inode? known))
            {
                if (known != Root) known.LookupCount++;
                nodeId = known.NodeId;
                return true;
            }
        }
        nodeId = 0;
        return false;
    }

    /// <summary>
    /// Gives a handle-held inode the descriptor the caller just opened with open_by_handle_at (taken over), and caches
    /// it. The caller holds a reference. Returns the descriptor to use (another thread's, if it was quicker).
    /// </summary>
    public int CacheFd(Inode inode, int fd)
    {
        int used, evicted = -1;
        lock (_gate)
        {
            used = inode.InstallFd(fd);
            // An inode already forgotten keeps the descriptor until its last user releases it; a pinned one for good.
            if (inode.InTable && inode.FdIsCached && !inode.InCache) evicted = AddToCache(inode);
        }
        if (evicted >= 0) Libc.close(evicted);
        return used;
    }

    /// <summary>
    /// Keeps the descriptor of the handle-held inode (st_dev, st_ino) for as long as the guest knows it: its last
    /// name is about to go, and a file handle may not reopen an unlinked inode (ESTALE) while the guest still uses
    /// it. <paramref name="fd"/> is an O_PATH descriptor of it, which this call takes over (and closes when the inode
    /// is unknown, already holds one, or has a cached one, which then becomes its held one).
    /// </summary>
    public void Pin(InodeKey key, int fd)
    {
        lock (_gate)
        {
            if (_byKey.TryGetValue(key, out Inode? inode) && !inode.HoldsFd)
            {
                inode.InstallFd(fd);
                inode.Pinned = true;   // the cache lets go of it at its next sweep, without closing
                _heldFds++;
                return;
            }
        }
        Libc.close(fd);
    }

    /// <summary>
    /// The cheap half of <see cref="Pin"/>: true when (st_dev, st_ino) needs no descriptor opened for it, because the
    /// guest does not know it, it already holds one, or its cached descriptor is open right now (which then becomes its
    /// held one, under this lock, so the cache cannot close it in between). False: the caller opens one for Pin.
    /// </summary>
    public bool TryPinWithoutOpening(InodeKey key)
    {
        lock (_gate)
        {
            if (!_byKey.TryGetValue(key, out Inode? inode) || inode.HoldsFd) return true;
            if (inode.CurrentFd < 0) return false;
            inode.Pinned = true;   // the cache lets go of it at its next sweep, without closing
            _heldFds++;
            return true;
        }
    }

    /// <summary>FORGET: a count larger than the lookup count clamps to zero; unknown ids and the root are ignored.</summary>
    public void Forget(ulong nodeId, ulong count)
    {
        Inode? dropped = null;
        lock (_gate)
        {
            if (!_byId.TryGetValue(nodeId, out Inode? inode) || inode == Root) return;
            inode.LookupCount -= Math.Min(count, inode.LookupCount);
            if (inode.LookupCount == 0)
            {
                RemoveLocked(inode);
                dropped = inode;
            }
        }
        dropped?.Release();
    }

    /// <summary>Drops every inode but the root (DESTROY, INIT, reset).</summary>
    public void Clear()
    {
        List<Inode> dropped;
        lock (_gate)
        {
            dropped = new List<Inode>(_byId.Count);
            foreach (Inode inode in _byId.Values)
            {
                if (inode == Root) continue;
                inode.InTable = false;
                if (inode.HoldsFd) _heldFds--;
                dropped.Add(inode);
            }
            _byId.Clear();
            _byKey.Clear();
            _byId.Add(Root.NodeId, Root);
            _byKey.Add(Root.Key, Root);
            foreach (Inode inode in _cache) inode.InCache = false;
            _cache.Clear();
            _hand = 0;
        }
        foreach (Inode inode in dropped) inode.Release();
    }

    // The table's reference goes with the caller (who releases it after the lock); a cached descriptor stays with the
    // inode until its last user is done, and the cache forgets the inode at its next sweep.
    private void RemoveLocked(Inode inode)
    {
        _byId.Remove(inode.NodeId);
        _byKey.Remove(inode.Key);
        inode.InTable = false;
        if (inode.HoldsFd) _heldFds--;
    }

    // Returns a descriptor the cache let go of, for the caller to close after leaving the lock (a close under the lock
    // made every other queue thread wait for it), or -1. Normally one insertion evicts at most one descriptor; when the
    // cache had grown past its capacity, the further ones are closed here.
    private int AddToCache(Inode inode)
    {
        int toClose = -1;
        while (_cache.Count >= FdCacheCapacity)
        {
            int evicted = EvictOne();
            if (evicted == AllInUse) break;
            if (evicted < 0) continue;
            if (toClose >= 0) Libc.close(toClose);
            toClose = evicted;
        }
        // Every cached inode in use right now (more threads than the capacity): the cache grows for a moment and
        // shrinks again at the next insertions.
        _cache.Add(inode);
        inode.InCache = true;
        inode.RecentlyUsed = false;
        return toClose;
    }

    private const int AllInUse = -2;

    // CLOCK: skip (and age) recently used entries, skip entries in use, take the descriptor of the first idle one.
    // Entries that no longer belong here (forgotten, pinned) just leave (-1). AllInUse when every entry is in use.
    private int EvictOne()
    {
        for (int steps = 2 * _cache.Count; steps > 0 && _cache.Count > 0; steps--)
        {
            if (_hand >= _cache.Count) _hand = 0;
            Inode candidate = _cache[_hand];
            if (!candidate.InTable || !candidate.FdIsCached)
            {
                RemoveFromCache(_hand);
                return -1;
            }
            if (candidate.RecentlyUsed)
            {
                candidate.RecentlyUsed = false;
                _hand++;
                continue;
            }
            if (candidate.References != 1)
            {
                _hand++;
                continue;
            }
            int fd = candidate.DetachCachedFd();
            RemoveFromCache(_hand);
            return fd;
        }
        return AllInUse;
    }

    private void RemoveFromCache(int index)
    {
        _cache[index].InCache = false;
        int last = _cache.Count - 1;
        _cache[index] = _cache[last];
        _cache.RemoveAt(last);
    }
}
