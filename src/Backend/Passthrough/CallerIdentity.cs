using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.Passthrough;

/// <summary>
/// Runs the calling thread, for one request, as the guest caller: fsuid/fsgid (and the one supplementary group the
/// kernel sends with FUSE_CREATE_SUPP_GROUP) set with raw per-thread syscalls, restored on Dispose. The host kernel
/// then gives new nodes the caller's owner, the group a setgid directory dictates, keeps or strips S_ISGID exactly as
/// a local file system would, and drops CAP_FSETID/CAP_MKNOD/... from the thread's effective set while fsuid is not 0.
/// Inherited supplementary groups are dropped first (CVE-2022-0358). Like virtiofsd, ids 0 are not switched to
/// (root stays root), and only when the daemon runs as root does anything switch at all.
/// </summary>
internal ref struct CallerIdentity
{
    private const int EPERM = 1;

    private uint _previousUid;
    private uint _previousGid;
    private bool _uidSet;
    private bool _gidSet;
    private bool _groupsSet;

    /// <summary>Switches to <paramref name="context"/>'s ids; returns 0 or an errno (nothing stays switched then).</summary>
    public static int Assume(bool privileged, in FuseContext context, out CallerIdentity identity)
    {
        identity = default;
        if (!privileged) return 0;
        bool group = context.HasSupplementaryGroup && context.SupplementaryGroup != context.Gid;
        if (context.Uid == 0 && context.Gid == 0 && !group) return 0;

        // Never run as the caller with root's inherited groups still attached (CVE-2022-0358): refuse instead.
        ServingThread.DropSupplementaryGroups();
        if (!ServingThread.GroupsDropped) return EPERM;
        if (group)
        {
            uint supplementary = context.SupplementaryGroup;
            if (Libc.SetThreadGroups(new ReadOnlySpan<uint>(ref supplementary)) != 0) return EPERM;
            identity._groupsSet = true;
        }
        if (context.Gid != 0)
        {
            identity._previousGid = Libc.SetThreadFsgid(context.Gid);
            identity._gidSet = true;
            // setfsgid reports no error: read the value back (-1 changes nothing and returns the current one).
            if (Libc.SetThreadFsgid(uint.MaxValue) != context.Gid)
            {
                identity.Dispose();
                return EPERM;
            }
        }
        if (context.Uid != 0)
        {
            identity._previousUid = Libc.SetThreadFsuid(context.Uid);
            identity._uidSet = true;
            if (Libc.SetThreadFsuid(uint.MaxValue) != context.Uid)
            {
                identity.Dispose();
                return EPERM;
            }
        }
        return 0;
    }

    /// <summary>Back to the daemon's own identity: uid first, so the capabilities come back before the gid changes.</summary>
    public void Dispose()
    {
        if (_uidSet)
        {
            Libc.SetThreadFsuid(_previousUid);
            _uidSet = false;
        }
        if (_gidSet)
        {
            Libc.SetThreadFsgid(_previousGid);
            _gidSet = false;
        }
        if (_groupsSet)
        {
            Libc.SetThreadGroups(ReadOnlySpan<uint>.Empty);
            _groupsSet = false;
        }
    }
}
