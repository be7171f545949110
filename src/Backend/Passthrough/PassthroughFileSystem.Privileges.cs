using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.Passthrough;

// Clearing privileges on modification (FUSE_HANDLE_KILLPRIV_V2): what the kernel's file_remove_privs does for an
// unprivileged writer, done by us because we write as root.
public sealed unsafe partial class PassthroughFileSystem
{
    /// <summary>KillPrivileges by file handle; unknown handles are ignored (the write that follows will fail).</summary>
    private void KillPrivileges(ulong fh)
    {
        FileHandle? handle = _handles.Acquire(fh);
        if (handle is null) return;
        try
        {
            KillPrivileges(handle.Fd, inodeFd: -1);
        }
        finally
        {
            handle.Release();
        }
    }

    /// <summary>
    /// Clears S_ISUID, and S_ISGID when the group may execute (without group-execute it marks mandatory locking and
    /// stays), of a regular file, through an open descriptor (<paramref name="fd"/> &gt;= 0) or the inode's O_PATH
    /// descriptor (<paramref name="inodeFd"/>); then removes
    /// security.capability under its mapped host name, which the host kernel does not know to remove
    /// (CVE-2021-20263). The host kernel removes the unmapped name by itself on every write.
    /// </summary>
    private void KillPrivileges(int fd, int inodeFd)
    {
        int statFd = fd >= 0 ? fd : inodeFd;
        if (Statx(statFd, out Libc.statx_t st) != 0 || (st.stx_mode & Libc.S_IFMT) != Libc.S_IFREG) return;
        uint mode = st.stx_mode;
        uint kill = mode & Libc.S_ISUID;
        if ((mode & Libc.S_ISGID) != 0 && (mode & 0x8 /* S_IXGRP */) != 0) kill |= Libc.S_ISGID;
        if (kill != 0)
        {
            uint newMode = mode & 0xFFF & ~kill;
            if (fd >= 0) Libc.fchmod(fd, newMode);
            else ChmodInode(inodeFd, newMode);
        }
        if (_xattrMap is not null) RemoveMappedCapability(statFd);
    }
}
