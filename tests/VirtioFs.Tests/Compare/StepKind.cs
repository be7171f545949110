namespace VirtioFs.Tests.Compare;

/// <summary>The operations a <see cref="Step"/> can perform, each mapped to FUSE requests the way the Linux driver sends them.</summary>
public enum StepKind
{
    Lookup, LookupName, Getattr, Readdir, ReaddirPlus, Read, Write, Readlink, Mkdir, Create, Open, Symlink, Mknod,
    Link, Unlink, Rmdir, Rename, Rename2, Truncate, Chmod, Statfs, Fallocate,
}
