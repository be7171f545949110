namespace VirtioFs.Backend.Passthrough;

/// <summary>What identifies a host inode: (st_dev, st_ino).</summary>
internal readonly record struct InodeKey(ulong Device, ulong Inode);
