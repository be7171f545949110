using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.Passthrough;

/// <summary>
/// The node-id table: node id → inode and (st_dev, st_ino) → inode, under one short lock. Node ids count up from 2
/// and are never reused, so a stale id from the guest finds nothing rather than somebody else's inode.
/// </summary>
internal sealed class InodeStore
{
    private readonly object _gate = new();
    private readonly Dictionary<ulong, Inode> _byId = new();
    private readonly Dictionary<InodeKey, Inode> _byKey = new();
    private ulong _nextId = 2;

    public InodeStore(Inode root)
    {
        Root = root;
        _byId.Add(root.NodeId, root);
        _byKey.Add(root.Key, root);
    }

    /// <summary>Node id 1, the shared directory: never forgotten.</summary>
    public Inode Root { get; }

    public int Count
    {
        get
        {
            lock (_gate) return _byId.Count;
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
    /// Adds one lookup for the inode behind <paramref name="fd"/> (an O_PATH descriptor this call takes over):
    /// a known inode keeps its descriptor and this one is closed.
    /// </summary>
    public ulong AddLookup(int fd, InodeKey key, uint fileType, ulong mountId)
    {
        Inode? known;
        lock (_gate)
        {
            if (!_byKey.TryGetValue(key, out known))
            {
                var inode = new Inode(_nextId++, fd, key, fileType, mountId) { LookupCount = 1 };
                _byId.Add(inode.NodeId, inode);
                _byKey.Add(key, inode);
                return inode.NodeId;
            }
            if (known != Root) known.LookupCount++;
        }
        Libc.close(fd);
        return known.NodeId;
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
                _byId.Remove(nodeId);
                _byKey.Remove(inode.Key);
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
                if (inode != Root) dropped.Add(inode);
            }
            _byId.Clear();
            _byKey.Clear();
            _byId.Add(Root.NodeId, Root);
            _byKey.Add(Root.Key, Root);
        }
        foreach (Inode inode in dropped) inode.Release();
    }
}
