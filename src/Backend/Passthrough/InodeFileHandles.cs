namespace VirtioFs.Backend.Passthrough;

/// <summary>
/// How inodes are held (virtiofsd's --inode-file-handles). With file handles an inode the guest knows costs no
/// descriptor: it is kept as the handle name_to_handle_at gave for it, and reopened with open_by_handle_at when used
/// (which needs CAP_DAC_READ_SEARCH).
/// </summary>
public enum InodeFileHandles
{
    /// <summary>Every inode holds an O_PATH descriptor (the fd quota and the raised RLIMIT_NOFILE bound them).</summary>
    Never,

    /// <summary>
    /// File handles where the daemon may open them (CAP_DAC_READ_SEARCH) and the host file system makes them; O_PATH
    /// descriptors elsewhere (per mount) and when not privileged. The default, as virtiofsd's.
    /// </summary>
    Prefer,

    /// <summary>File handles or nothing: the share refuses to start without them, and a lookup on a file system
    /// that has none answers its errno (EOPNOTSUPP).</summary>
    Mandatory,
}
