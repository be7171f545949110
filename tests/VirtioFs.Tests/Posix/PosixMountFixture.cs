using VirtioFs.Backend.Passthrough;
using VirtioFs.Tests.Passthrough;

namespace VirtioFs.Tests.Posix;

/// <summary>
/// A /dev/fuse mount with every optional feature on (xattr, POSIX locks, flock, killpriv_v2) and ONE serving thread,
/// so a test can show that a waiting lock does not occupy it.
/// </summary>
public sealed class PosixMountFixture : MountFixture
{
    public PosixMountFixture()
        : base(share => new PassthroughOptions
        {
            SharedDirectory = share,
            Xattr = true,
            PosixLocks = true,
            Flock = true,
            KillprivV2 = true,
        }, threads: 1)
    {
        // CreateTempSubdirectory makes the root 0700: unprivileged test processes must be able to reach the mount.
        HostFile.Chmod(Root, 0x1ED);
    }
}
