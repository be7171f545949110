using System.Globalization;

namespace VirtioFs.Backend.Share;

/// <summary>
/// A share's options in one line, in the C virtiofsd's -o spelling (the names docs/options.md maps), for a share's
/// Format-List view and logs: the cache policy and the queues always, every other option only when it differs from its
/// default, so the line says what is special about this share. Joined with ", ": an xattrmap may itself hold commas.
/// </summary>
public static class ShareOptionsSummary
{
    public static string Describe(ShareOptions o)
    {
        var parts = new List<string>
        {
            "cache=" + o.Cache.ToString().ToLowerInvariant(),
            "queues=" + o.RequestQueues.ToString(CultureInfo.InvariantCulture),
        };
        if (o.MaxQueueSize != 32768) parts.Add("queue_size=" + o.MaxQueueSize.ToString(CultureInfo.InvariantCulture));
        if (o.ThreadPoolSize != 0) parts.Add("thread_pool_size=" + o.ThreadPoolSize.ToString(CultureInfo.InvariantCulture));
        if (o.Timeout is { } timeout) parts.Add("timeout=" + timeout.ToString("R", CultureInfo.InvariantCulture));
        if (o.ReadOnly) parts.Add("readonly");
        if (o.Writeback) parts.Add("writeback");
        if (!o.ReaddirPlus) parts.Add("no_readdirplus");
        if (o.AllowDirectIo) parts.Add("allow_direct_io");
        if (o.Xattr) parts.Add("xattr");
        if (o.XattrMap is not null) parts.Add("xattrmap=" + o.XattrMap);
        if (o.PosixLocks) parts.Add("posix_lock");
        if (o.Flock) parts.Add("flock");
        if (!o.AnnounceSubmounts) parts.Add("no_announce_submounts");
        if (o.KillprivV2) parts.Add("killpriv_v2");
        if (o.RlimitNofile is { } limit) parts.Add("rlimit_nofile=" + limit.ToString(CultureInfo.InvariantCulture));
        if (o.InodeFileHandles != Passthrough.InodeFileHandles.Prefer) parts.Add("inode_file_handles=" + o.InodeFileHandles.ToString().ToLowerInvariant());
        if (o.AdvertiseConfig) parts.Add("tag=" + o.Tag);
        if (!o.Relisten) parts.Add("stop_on_disconnect");
        return string.Join(", ", parts);
    }
}
