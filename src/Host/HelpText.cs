namespace VirtioFs.Host;

internal static class HelpText
{
    public const string Text = """
        Usage: virtiofs-host --shared-dir DIR (--socket-path PATH | --fd N) [options]
        A vhost-user virtio-fs back-end (the job of virtiofsd), from the VirtioFs PowerShell module.

          --shared-dir DIR          directory to share (also: -o source=DIR)
          --socket-path PATH        create and listen on this UNIX socket (alias: --socket)
          --fd N                    listen on an inherited, already listening socket
          --tag TAG                 also answer GET_CONFIG with TAG (offers VHOST_USER_PROTOCOL_F_CONFIG;
                                    QEMU 7.1 to 8.0 crash on it, so only when you need it)
          --cache never|metadata|auto|always   cache policy (default auto; also -o cache=)
          --readonly                refuse every change with EROFS
          --xattr                   serve extended attributes (default off: ENOSYS)
          --writeback               negotiate the writeback cache
          --no-readdirplus          do not offer READDIRPLUS
          --thread-pool-size N      worker threads per queue (default 0: serve on the queue thread)
          --xattrmap RULES          map xattr names between guest and host (virtiofsd's rule syntax,
                                    e.g. ":map:security.:trusted.virtiofs.:")
          --announce-submounts      flag host mounts inside the share as guest submounts (default on;
                                    --no-announce-submounts turns it off)
          --killpriv-v2             negotiate FUSE_HANDLE_KILLPRIV_V2 (default off)
          --allow-direct-io         honour the guest's O_DIRECT (default: stripped)
          --rlimit-nofile N         raise RLIMIT_NOFILE to N (default min(1000000, fs.nr_open); 0: leave it)
          --inode-file-handles never|prefer|mandatory
                                    hold inodes by file handles, not descriptors (default prefer: where
                                    CAP_DAC_READ_SEARCH and the file system allow; mandatory: or refuse)
          --request-queues N        request queues, each with its own thread (default 1; QEMU's
                                    num-request-queues must not exceed it)
          --log-level error|warn|info|debug    (default info; -d means debug)
          --print-capabilities      print the vhost-user JSON that libvirt reads, then exit
          -o LIST                   C-virtiofsd style options: source=,cache=,timeout=,xattr,no_xattr,
                                    xattrmap=,readdirplus,no_readdirplus,writeback,no_writeback,readonly,
                                    flock,no_flock,posix_lock,no_posix_lock,announce_submounts,killpriv_v2,
                                    no_killpriv_v2,allow_direct_io,no_allow_direct_io,norace,log_level=,
                                    thread_pool_size=
          -h, --help                this text
          -V, --version             the version

        The socket is created private to the current user (0600). After a front-end disconnects the
        share waits for the next one. SIGTERM or SIGINT stops it.

        """;
}
