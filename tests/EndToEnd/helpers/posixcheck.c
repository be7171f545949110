/*
 * posixcheck: POSIX file-system checks for the end-to-end guest (what busybox cannot do: xattrs, locks,
 * fallocate, SEEK_DATA/SEEK_HOLE, copy_file_range, O_TMPFILE, renameat2, utimensat, set-id bits, credentials).
 *
 *   posixcheck DIR            run every check in DIR (empty, on the file system under test); one line each:
 *                             CHECK <name> <outcome>
 *   posixcheck --list         the check names, one per line
 *
 * The guest script runs it on the virtio-fs mount and on a guest-local tmpfs and compares the outcomes line by
 * line. Outcomes therefore hold only what both must agree on: results and errno names, modes, owners, sizes,
 * contents, explicitly set times. Never inode numbers, devices, block counts, pids or paths.
 * Each check runs in its own child (own subdirectory, 20 s alarm), so one crash or hang costs one check.
 * Checks that need an unprivileged caller fork and drop to uid/gid 1000 with no supplementary groups.
 * Built static by scripts/prepare-guest.sh: gcc -static -O2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#define USER 1000
#define GROUP 1000
#define OTHER_GROUP 5000

static char out[8192];
static size_t used;

/* Appends "fmt" to this check's outcome, space separated. */
static void say(const char *fmt, ...)
{
    va_list ap;
    if (used && used < sizeof out - 1) out[used++] = ' ';
    va_start(ap, fmt);
    int n = vsnprintf(out + used, sizeof out - used, fmt, ap);
    va_end(ap);
    if (n > 0) used += (size_t)n < sizeof out - used ? (size_t)n : sizeof out - used - 1;
}

static const char *ename(int e)
{
    switch (e) {
    case 0: return "ok";
    case EPERM: return "EPERM"; case ENOENT: return "ENOENT"; case EINTR: return "EINTR"; case EIO: return "EIO";
    case ENXIO: return "ENXIO"; case EBADF: return "EBADF"; case EAGAIN: return "EAGAIN"; case EACCES: return "EACCES";
    case EEXIST: return "EEXIST"; case EXDEV: return "EXDEV"; case ENOTDIR: return "ENOTDIR"; case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL"; case ENFILE: return "ENFILE"; case EMFILE: return "EMFILE"; case ETXTBSY: return "ETXTBSY";
    case EFBIG: return "EFBIG"; case ENOSPC: return "ENOSPC"; case EROFS: return "EROFS"; case EMLINK: return "EMLINK";
    case ERANGE: return "ERANGE"; case EDEADLK: return "EDEADLK"; case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOLCK: return "ENOLCK"; case ENOSYS: return "ENOSYS"; case ENOTEMPTY: return "ENOTEMPTY"; case ELOOP: return "ELOOP";
    case ENODATA: return "ENODATA"; case EOPNOTSUPP: return "EOPNOTSUPP"; case ESPIPE: return "ESPIPE";
    default: { static char b[16]; snprintf(b, sizeof b, "E%d", e); return b; }
    }
}

/* r(label, rc): label=ok, or label=ENAME when rc < 0. Returns rc. */
static long r(const char *label, long rc)
{
    say("%s=%s", label, rc < 0 ? ename(errno) : "ok");
    return rc;
}

static void show_mode(const char *label, const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) say("%s=%s", label, ename(errno));
    else say("%s=%o", label, (unsigned)st.st_mode);
}

static void show_owner(const char *label, const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) say("%s=%s", label, ename(errno));
    else say("%s=%u:%u", label, (unsigned)st.st_uid, (unsigned)st.st_gid);
}

static void show_size(const char *label, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) say("%s=%s", label, ename(errno));
    else say("%s=%lld", label, (long long)st.st_size);
}

static void show_nlink(const char *label, const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) say("%s=%s", label, ename(errno));
    else say("%s=%lu", label, (unsigned long)st.st_nlink);
}

static int put(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0) return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static void show_content(const char *label, const char *path)
{
    char buf[256];
    int fd = open(path, O_RDONLY);
    if (fd < 0) { say("%s=%s", label, ename(errno)); return; }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) { say("%s=%s", label, ename(errno)); return; }
    buf[n] = 0;
    for (ssize_t i = 0; i < n; i++) if (buf[i] == ' ' || buf[i] == '\n' || buf[i] == 0) buf[i] = '_';
    say("%s='%s'", label, buf);
}

/* Runs fn as uid/gid 1000 with no supplementary groups in a child; its outcome joins ours. */
static void as_user(const char *label, void (*fn)(void))
{
    int p[2];
    if (pipe(p) != 0) { say("%s=pipe-failed", label); return; }
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        used = 0; out[0] = 0;
        if (setgroups(0, NULL) != 0 || setgid(GROUP) != 0 || setuid(USER) != 0) say("setuid-failed");
        else fn();
        ssize_t ignored = write(p[1], out, used);
        (void)ignored;
        _exit(0);
    }
    close(p[1]);
    char buf[4096];
    ssize_t n, total = 0;
    while ((n = read(p[0], buf + total, sizeof buf - 1 - (size_t)total)) > 0) total += n;
    close(p[0]);
    waitpid(pid, NULL, 0);
    buf[total] = 0;
    say("%s[%s]", label, buf);
}

/* ---- pjdfstest-like categories, as root and as an unprivileged user ---------------------------------------- */

static void user_mkdir_denied(void) { r("mkdir_in_root_dir", mkdir("root755/x", 0755)); }

static void check_mkdir(void)
{
    r("mkdir", mkdir("a", 0755)); show_mode("mode", "a");
    r("again", mkdir("a", 0755));
    r("noparent", mkdir("x/y", 0755));
    put("f", "", 0644);
    r("under_file", mkdir("f/y", 0755));
    r("sticky", mkdir("s", 01777)); show_mode("sticky_mode", "s");
    umask(0); r("umask0", mkdir("u", 0777)); show_mode("u_mode", "u"); umask(022);
    r("umask022", mkdir("v", 0777)); show_mode("v_mode", "v");
    mkdir("root755", 0755);
    as_user("user", user_mkdir_denied);
    show_nlink("parent_nlink", ".");
}

static void user_chmod(void)
{
    r("chmod_not_owner", chmod("rootfile", 0777));
    r("chmod_own", chmod("userfile", 0600)); show_mode("own_mode", "userfile");
    /* setgid on a file whose group the caller is not in: silently dropped */
    r("chmod_sgid_foreign_group", chmod("usergroup0", 02755)); show_mode("sgid_mode", "usergroup0");
    r("chmod_sticky_file", chmod("userfile", 01644)); show_mode("sticky_file_mode", "userfile");
}

static void check_chmod(void)
{
    put("f", "x", 0644);
    r("chmod600", chmod("f", 0600)); show_mode("m1", "f");
    r("chmod4755", chmod("f", 04755)); show_mode("m2", "f");
    r("chmod1777", chmod("f", 01777)); show_mode("m3", "f");
    mkdir("d", 0755); r("chmod_dir", chmod("d", 02775)); show_mode("m4", "d");
    symlink("f", "l"); r("chmod_through_link", chmod("l", 0640)); show_mode("m5", "f"); show_mode("link_mode", "l");
    r("chmod_missing", chmod("missing", 0644));
    put("rootfile", "", 0644);
    put("userfile", "", 0644); chown("userfile", USER, GROUP);
    put("usergroup0", "", 0644); chown("usergroup0", USER, 0);
    chmod(".", 0777);
    as_user("user", user_chmod);
}

static void user_chown(void)
{
    r("chown_to_root", chown("userfile", 0, GROUP));
    r("chgrp_own", chown("userfile", (uid_t)-1, GROUP));
    r("chgrp_foreign", chown("userfile", (uid_t)-1, OTHER_GROUP));
    r("chown_other_file", chown("rootfile", USER, GROUP));
    show_owner("owner", "userfile");
}

static void check_chown(void)
{
    put("f", "x", 0644);
    r("chown", chown("f", USER, GROUP)); show_owner("o1", "f");
    r("noop", chown("f", (uid_t)-1, (gid_t)-1)); show_owner("o2", "f");
    r("chgrp", chown("f", (uid_t)-1, OTHER_GROUP)); show_owner("o3", "f");
    chmod("f", 06755);
    r("chown_setid", chown("f", 0, 0)); show_mode("setid_after_chown", "f");
    chmod("f", 02644);
    r("chown_sgid_noexec", chown("f", USER, GROUP)); show_mode("sgid_noexec_after_chown", "f");
    symlink("f", "l");
    r("lchown", lchown("l", USER, OTHER_GROUP)); show_owner("link_owner", "l"); show_owner("target_owner", "f");
    put("userfile", "", 0644); chown("userfile", USER, GROUP);
    put("rootfile", "", 0644);
    as_user("user", user_chown);
}

static void check_link(void)
{
    put("f", "x", 0644);
    r("link", link("f", "g")); show_nlink("n_f", "f"); show_nlink("n_g", "g");
    r("exists", link("f", "g"));
    mkdir("d", 0755); r("link_dir", link("d", "d2"));
    r("missing", link("nope", "h"));
    r("unlink_one", unlink("g")); show_nlink("n_after", "f");
    symlink("f", "s"); r("link_symlink", link("s", "s2")); show_mode("s2_mode", "s2");
    r("link_into_missing_dir", link("f", "nodir/f"));
}

static void check_mkfifo(void)
{
    r("mkfifo", mkfifo("p", 0644)); show_mode("mode", "p");
    r("again", mkfifo("p", 0644));
    int fd = open("p", O_RDONLY | O_NONBLOCK); r("open_reader", fd);
    if (fd >= 0) close(fd);
    fd = open("p", O_WRONLY | O_NONBLOCK); r("open_writer_no_reader", fd);
    if (fd >= 0) close(fd);
    int rd = open("p", O_RDONLY | O_NONBLOCK), wr = open("p", O_WRONLY | O_NONBLOCK);
    char c = 'z', got = 0;
    r("pipe_write", write(wr, &c, 1)); r("pipe_read", read(rd, &got, 1)); say("byte=%c", got);
    close(rd); close(wr);
}

static void user_open(void)
{
    r("read_0600_root", open("secret", O_RDONLY));
    int fd = open("public", O_RDONLY); r("read_0644_root", fd); if (fd >= 0) close(fd);
    r("write_0644_root", open("public", O_WRONLY));
    umask(022);
    fd = open("mine", O_CREAT | O_WRONLY, 0777); r("create", fd); if (fd >= 0) close(fd);
    show_mode("mine_mode", "mine"); show_owner("mine_owner", "mine");
}

static void check_open(void)
{
    int fd = open("f", O_CREAT | O_EXCL | O_WRONLY, 0640); r("create_excl", fd); if (fd >= 0) close(fd);
    show_mode("mode", "f");
    r("excl_again", open("f", O_CREAT | O_EXCL | O_WRONLY, 0640));
    put("f", "hello", 0640);
    fd = open("f", O_WRONLY | O_TRUNC); r("trunc", fd); if (fd >= 0) close(fd); show_size("size_after_trunc", "f");
    put("f", "one", 0640);
    fd = open("f", O_WRONLY | O_APPEND); write(fd, "two", 3); lseek(fd, 0, SEEK_SET); write(fd, "3", 1); close(fd);
    show_content("appended", "f");
    r("directory_flag_on_file", open("f", O_RDONLY | O_DIRECTORY));
    mkdir("d", 0755);
    r("dir_for_write", open("d", O_WRONLY));
    fd = open("d", O_RDONLY | O_DIRECTORY); r("dir_read", fd); if (fd >= 0) close(fd);
    symlink("f", "l");
    r("nofollow_symlink", open("l", O_RDONLY | O_NOFOLLOW));
    symlink("created-through-link", "dangling");
    fd = open("dangling", O_CREAT | O_WRONLY, 0644); r("create_through_dangling", fd); if (fd >= 0) close(fd);
    show_mode("target_made", "created-through-link");
    r("excl_on_symlink", open("l", O_CREAT | O_EXCL | O_WRONLY, 0644));
    r("missing", open("nope", O_RDONLY));
    r("enotdir", open("f/x", O_RDONLY));
    put("secret", "s", 0600); put("public", "p", 0644);
    chmod(".", 0777);
    as_user("user", user_open);
}

static void user_rename_sticky(void) { r("rename_others_in_sticky", rename("sticky/rootfile", "sticky/mine")); r("rename_own_in_sticky", rename("sticky/userfile", "sticky/renamed")); }

static void check_rename(void)
{
    put("a", "A", 0644); put("b", "B", 0644);
    r("file_to_new", rename("a", "c")); show_content("c", "c"); r("old_gone", access("a", F_OK));
    r("file_over_file", rename("c", "b")); show_content("b", "b"); show_nlink("b_nlink", "b");
    mkdir("d1", 0755); mkdir("d2", 0755);
    r("dir_over_empty_dir", rename("d1", "d2"));
    mkdir("d3", 0755); put("d3/x", "", 0644); mkdir("d4", 0755);
    r("dir_over_nonempty", rename("d4", "d3"));
    r("file_over_dir", rename("b", "d3"));
    r("dir_over_file", rename("d3", "b"));
    r("into_own_subdir", rename("d3", "d3/sub"));
    r("same_name", rename("b", "b"));
    link("b", "bb"); r("hardlinks_same_inode", rename("b", "bb")); r("b_still", access("b", F_OK)); r("bb_still", access("bb", F_OK));
    r("missing", rename("nope", "x"));
    mkdir("sticky", 0755); chmod("sticky", 01777);
    put("sticky/rootfile", "", 0644); put("sticky/userfile", "", 0644); chown("sticky/userfile", USER, GROUP);
    chmod(".", 0777);
    as_user("user", user_rename_sticky);
    show_nlink("d2_nlink", "d2");
}

static void check_rmdir(void)
{
    mkdir("d", 0755); put("d/x", "", 0644);
    r("nonempty", rmdir("d"));
    put("f", "", 0644);
    r("file", rmdir("f"));
    r("dot", rmdir("d/."));
    r("missing", rmdir("nope"));
    unlink("d/x");
    r("empty", rmdir("d")); r("gone", access("d", F_OK));
    show_nlink("parent_nlink", ".");
}

static void check_symlink(void)
{
    char buf[2048];
    r("symlink", symlink("target", "l"));
    ssize_t n = readlink("l", buf, sizeof buf - 1); r("readlink", n); if (n >= 0) { buf[n] = 0; say("target=%s", buf); }
    struct stat st;
    r("stat_dangling", stat("l", &st)); r("lstat", lstat("l", &st)); say("type=%o", (unsigned)(st.st_mode & S_IFMT)); say("perm=%o", (unsigned)(st.st_mode & 07777));
    say("size=%lld", (long long)st.st_size);
    r("again", symlink("other", "l"));
    char longtarget[1024]; memset(longtarget, 't', 1023); longtarget[1023] = 0;
    r("long_target", symlink(longtarget, "long")); n = readlink("long", buf, sizeof buf); say("long_len=%zd", n);
    r("empty_target", symlink("", "empty"));
    put("f", "data", 0644); symlink("f", "lf"); show_content("through", "lf");
    symlink("loop2", "loop1"); symlink("loop1", "loop2"); r("loop", open("loop1", O_RDONLY));
}

static void user_truncate(void) { r("truncate_not_writable", truncate("rootfile", 0)); r("truncate_own", truncate("userfile", 3)); show_size("own_size", "userfile"); }

static void check_truncate(void)
{
    put("f", "0123456789", 0644);
    r("grow", truncate("f", 1000)); show_size("s1", "f");
    int fd = open("f", O_RDONLY); char buf[1000]; ssize_t n = pread(fd, buf, sizeof buf, 0); close(fd);
    int zeros = 1; for (ssize_t i = 10; i < n; i++) if (buf[i]) zeros = 0;
    say("read=%zd zeros=%d", n, zeros);
    r("shrink", truncate("f", 4)); show_size("s2", "f"); show_content("c", "f");
    mkdir("d", 0755); r("dir", truncate("d", 0));
    r("negative", truncate("f", -1));
    symlink("f", "l"); r("through_link", truncate("l", 2)); show_size("s3", "f");
    r("missing", truncate("nope", 0));
    put("rootfile", "r", 0644); put("userfile", "userdata", 0644); chown("userfile", USER, GROUP);
    as_user("user", user_truncate);
}

static void user_ftruncate(void)
{
    int fd = open("userfile", O_WRONLY); r("open", fd);
    /* Permission is checked at open: a later chmod by the owner does not stop writes through the descriptor. */
    chmod("userfile", 0444);
    r("after_chmod", ftruncate(fd, 5)); close(fd); show_size("size", "userfile");
}

static void check_ftruncate(void)
{
    put("f", "0123456789", 0644);
    int fd = open("f", O_RDONLY); r("readonly_fd", ftruncate(fd, 1)); close(fd);
    fd = open("f", O_WRONLY); r("writable_fd", ftruncate(fd, 3)); r("negative", ftruncate(fd, -5)); close(fd); show_size("size", "f");
    r("bad_fd", ftruncate(-1, 0));
    put("userfile", "0123456789", 0644); chown("userfile", USER, GROUP);
    chmod(".", 0777);
    as_user("user", user_ftruncate);
}

static void user_unlink_sticky(void) { r("unlink_others_in_sticky", unlink("sticky/rootfile")); r("unlink_own_in_sticky", unlink("sticky/userfile")); r("unlink_in_root_dir", unlink("root755/f")); }

static void check_unlink(void)
{
    put("f", "still readable", 0644);
    int fd = open("f", O_RDONLY);
    r("unlink", unlink("f")); r("gone", access("f", F_OK));
    struct stat st; fstat(fd, &st); say("open_nlink=%lu", (unsigned long)st.st_nlink);
    char buf[32]; ssize_t n = pread(fd, buf, sizeof buf, 0); say("open_read=%zd", n); close(fd);
    mkdir("d", 0755); r("dir", unlink("d"));
    r("missing", unlink("nope"));
    mkdir("sticky", 0755); chmod("sticky", 01777);
    put("sticky/rootfile", "", 0644); put("sticky/userfile", "", 0644); chown("sticky/userfile", USER, GROUP);
    mkdir("root755", 0755); put("root755/f", "", 0666);
    chmod(".", 0777);
    as_user("user", user_unlink_sticky);
}

static void user_utimens(void)
{
    struct timespec t[2] = { { 1000, 0 }, { 2000, 0 } };
    r("explicit_not_owner", utimensat(AT_FDCWD, "rootfile", t, 0));
    r("now_writable_not_owner", utimensat(AT_FDCWD, "shared", NULL, 0));
    r("now_not_writable", utimensat(AT_FDCWD, "rootfile", NULL, 0));
    r("explicit_own", utimensat(AT_FDCWD, "userfile", t, 0));
}

static void show_times(const char *label, const char *path, int flags)
{
    struct stat st;
    if (fstatat(AT_FDCWD, path, &st, flags) != 0) { say("%s=%s", label, ename(errno)); return; }
    say("%s=%lld.%09ld/%lld.%09ld", label, (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

static void check_utimensat(void)
{
    put("f", "x", 0644);
    struct timespec t[2] = { { 1000000000, 5 }, { 1100000000, 7 } };
    r("set", utimensat(AT_FDCWD, "f", t, 0)); show_times("t1", "f", 0);
    struct timespec omit[2] = { { 0, UTIME_OMIT }, { 1200000000, 0 } };
    r("omit_atime", utimensat(AT_FDCWD, "f", omit, 0)); show_times("t2", "f", 0);
    struct timespec now[2] = { { 0, UTIME_NOW }, { 0, UTIME_OMIT } };
    time_t before = time(NULL);
    r("now_atime", utimensat(AT_FDCWD, "f", now, 0));
    struct stat st; stat("f", &st);
    say("atime_recent=%d mtime_kept=%d", st.st_atim.tv_sec >= before - 120 && st.st_atim.tv_sec <= before + 120, st.st_mtim.tv_sec == 1200000000);
    symlink("f", "l");
    struct timespec lt[2] = { { 900000000, 0 }, { 950000000, 0 } };
    r("symlink_nofollow", utimensat(AT_FDCWD, "l", lt, AT_SYMLINK_NOFOLLOW)); show_times("link", "l", AT_SYMLINK_NOFOLLOW);
    struct stat target; stat("f", &target); say("target_mtime=%lld", (long long)target.st_mtim.tv_sec);
    r("bad_nsec", utimensat(AT_FDCWD, "f", (struct timespec[2]) { { 0, 1000000000 }, { 0, 0 } }, 0));
    int fd = open("f", O_RDONLY);
    r("futimens", futimens(fd, t)); close(fd); show_times("t3", "f", 0);
    put("rootfile", "", 0644); put("shared", "", 0666); put("userfile", "", 0644); chown("userfile", USER, GROUP);
    as_user("user", user_utimens);
}

static void check_granular(void)
{
    char name[300];
    memset(name, 'n', 255); name[255] = 0;
    int fd = open(name, O_CREAT | O_WRONLY, 0644); r("name255", fd); if (fd >= 0) close(fd);
    show_size("stat255", name);
    r("unlink255", unlink(name));
    memset(name, 'n', 256); name[256] = 0;
    r("name256", open(name, O_CREAT | O_WRONLY, 0644));
    r("mkdir256", mkdir(name, 0755));
    mkdir("a", 0755); mkdir("a/b", 0755); mkdir("a/b/c", 0755);
    put("a/b/c/deep", "deep", 0644);
    show_content("deep", "a/b/../b/./c/deep");
    r("dotdot_of_file", access("a/b/c/deep/..", F_OK));
    r("trailing_slash_file", access("a/b/c/deep/", F_OK));
    int count = 0;
    for (int i = 0; i < 300; i++) { char n[32]; snprintf(n, sizeof n, "a/e%03d", i); if (put(n, "", 0644) == 0) count++; }
    DIR *d = opendir("a"); int seen = 0; struct dirent *e;
    while ((e = readdir(d)) != NULL) seen++;
    closedir(d);
    say("created=%d listed=%d", count, seen);
}

/* ---- extended attributes ------------------------------------------------------------------------------------ */

static void xattr_sequence(const char *ns)
{
    char a[64], b[64], c[64], buf[256];
    snprintf(a, sizeof a, "%s.alpha", ns); snprintf(b, sizeof b, "%s.beta", ns); snprintf(c, sizeof c, "%s.gamma", ns);
    put("f", "", 0644);
    r("set", setxattr("f", a, "value-one", 9, 0));
    say("size=%zd", getxattr("f", a, NULL, 0));
    ssize_t n = getxattr("f", a, buf, sizeof buf); r("get", n); if (n >= 0) say("value=%.*s", (int)n, buf);
    r("small_buffer", getxattr("f", a, buf, 3));
    r("create_existing", setxattr("f", a, "x", 1, XATTR_CREATE));
    r("replace_missing", setxattr("f", b, "x", 1, XATTR_REPLACE));
    r("set_b", setxattr("f", b, "", 0, XATTR_CREATE));
    say("empty_size=%zd", getxattr("f", b, NULL, 0));
    r("replace", setxattr("f", a, "two", 3, XATTR_REPLACE));
    n = getxattr("f", a, buf, sizeof buf); if (n >= 0) say("value2=%.*s", (int)n, buf);
    n = listxattr("f", buf, sizeof buf);
    int mine = 0;
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1) if (strncmp(buf + i, ns, strlen(ns)) == 0) mine++;
    say("listed_mine=%d", mine);
    r("get_missing", getxattr("f", c, buf, sizeof buf));
    r("remove", removexattr("f", a));
    r("remove_again", removexattr("f", a));
    char big[1000]; memset(big, 'v', sizeof big);   /* ext4 keeps all of a file's xattrs in one 4 KiB block */
    r("set_1000", setxattr("f", c, big, sizeof big, 0)); say("size_1000=%zd", getxattr("f", c, NULL, 0));
    mkdir("d", 0755); r("on_dir", setxattr("d", a, "d", 1, 0));
    r("bad_namespace", setxattr("f", "nonsense.x", "v", 1, 0));
}

static void check_xattr_trusted(void) { xattr_sequence("trusted"); }
static void check_xattr_user(void) { xattr_sequence("user"); symlink("f", "l"); r("user_on_symlink", lsetxattr("l", "user.x", "v", 1, 0)); }

/* ---- locks -------------------------------------------------------------------------------------------------- */

static int setlk(int fd, int cmd, short type, off_t start, off_t len)
{
    struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
    return fcntl(fd, cmd, &fl);
}

static void check_posix_lock(void)
{
    put("f", "0123456789", 0644);
    int fd = open("f", O_RDWR);
    r("parent_wrlck", setlk(fd, F_SETLK, F_WRLCK, 0, 10));
    int p[2]; pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        used = 0; out[0] = 0;
        int cfd = open("f", O_RDWR);
        r("child_conflict", setlk(cfd, F_SETLK, F_WRLCK, 5, 1));
        r("child_rd_conflict", setlk(cfd, F_SETLK, F_RDLCK, 0, 1));
        r("child_beyond", setlk(cfd, F_SETLK, F_WRLCK, 10, 10));
        struct flock q = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
        r("getlk", fcntl(cfd, F_GETLK, &q));
        say("holder=%d:%lld:%lld", q.l_type, (long long)q.l_start, (long long)q.l_len);
        struct flock q2 = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 20, .l_len = 5 };
        fcntl(cfd, F_GETLK, &q2); say("free_range=%d", q2.l_type == F_UNLCK);
        write(p[1], out, used); _exit(0);
    }
    close(p[1]);
    char buf[2048]; ssize_t n, total = 0;
    while ((n = read(p[0], buf + total, sizeof buf - 1 - total)) > 0) total += n;
    buf[total] = 0; close(p[0]); waitpid(pid, NULL, 0);
    say("%s", buf);
    /* POSIX: closing ANY descriptor of the file releases the process's locks on it. */
    int other = open("f", O_RDONLY); close(other);
    pid = fork();
    if (pid == 0) { int cfd = open("f", O_RDWR); _exit(setlk(cfd, F_SETLK, F_WRLCK, 0, 10) == 0 ? 0 : 1); }
    int status; waitpid(pid, &status, 0);
    say("released_by_close=%d", WIFEXITED(status) && WEXITSTATUS(status) == 0);
    r("relock", setlk(fd, F_SETLK, F_RDLCK, 0, 0));
    r("unlock", setlk(fd, F_SETLK, F_UNLCK, 0, 0));
    close(fd);
}

static double now_ms(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }

static void check_posix_lock_wait(void)
{
    put("f", "x", 0644);
    int fd = open("f", O_RDWR);
    r("hold", setlk(fd, F_SETLK, F_WRLCK, 0, 0));
    int p[2]; pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        int cfd = open("f", O_RDWR);
        double t0 = now_ms();
        int rc = setlk(cfd, F_SETLKW, F_WRLCK, 0, 0);
        int e = errno;
        double waited = now_ms() - t0;
        char msg[128];
        int len = snprintf(msg, sizeof msg, "child_setlkw=%s waited_for_unlock=%d", rc == 0 ? "ok" : ename(e), waited >= 300);
        write(p[1], msg, len); _exit(0);
    }
    close(p[1]);
    usleep(600 * 1000);
    r("unlock", setlk(fd, F_SETLK, F_UNLCK, 0, 0));
    char buf[256]; ssize_t n = read(p[0], buf, sizeof buf - 1); buf[n > 0 ? n : 0] = 0;
    waitpid(pid, NULL, 0);
    say("%s", buf);
    close(fd);
}

static void check_flock(void)
{
    put("f", "x", 0644);
    int a = open("f", O_RDONLY), b = open("f", O_RDONLY);
    r("ex_a", flock(a, LOCK_EX | LOCK_NB));
    r("ex_b", flock(b, LOCK_EX | LOCK_NB));
    r("sh_b", flock(b, LOCK_SH | LOCK_NB));
    pid_t pid = fork();
    if (pid == 0) { int c = open("f", O_RDONLY); _exit(flock(c, LOCK_SH | LOCK_NB) == 0 ? 0 : errno == EWOULDBLOCK ? 2 : 3); }
    int status; waitpid(pid, &status, 0); say("child_sh=%d", WEXITSTATUS(status));
    /* A child inherits the open file description, and with it the lock. */
    pid = fork();
    if (pid == 0) _exit(flock(a, LOCK_EX | LOCK_NB) == 0 ? 0 : 1);
    waitpid(pid, &status, 0); say("inherited=%d", WEXITSTATUS(status));
    r("downgrade_a", flock(a, LOCK_SH | LOCK_NB));
    r("sh_b_after", flock(b, LOCK_SH | LOCK_NB));
    r("un_a", flock(a, LOCK_UN)); r("un_b", flock(b, LOCK_UN));
    r("ex_b_free", flock(b, LOCK_EX | LOCK_NB));
    close(b);
    r("ex_a_after_close", flock(a, LOCK_EX | LOCK_NB));
    close(a);
}

/* ---- data operations ---------------------------------------------------------------------------------------- */

static unsigned long sum_range(int fd, off_t start, size_t len)
{
    unsigned char buf[65536]; unsigned long s = 0;
    while (len) {
        size_t want = len < sizeof buf ? len : sizeof buf;
        ssize_t n = pread(fd, buf, want, start);
        if (n <= 0) break;
        for (ssize_t i = 0; i < n; i++) s = s * 31 + buf[i];
        start += n; len -= (size_t)n;
    }
    return s;
}

static void check_fallocate(void)
{
    int fd = open("f", O_CREAT | O_RDWR, 0644);
    r("plain", fallocate(fd, 0, 0, 1 << 20)); show_size("s1", "f");
    r("keep_size", fallocate(fd, FALLOC_FL_KEEP_SIZE, 1 << 20, 1 << 20)); show_size("s2", "f");
    char block[4096]; memset(block, 0x5a, sizeof block);
    for (int i = 0; i < 256; i++) pwrite(fd, block, sizeof block, (off_t)i * 4096);
    r("punch", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 65536, 65536)); show_size("s3", "f");
    say("punched_zero=%d", sum_range(fd, 65536, 65536) == sum_range(fd, 2 << 20, 65536));
    r("punch_without_keep", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096));
    say("kept=%d", sum_range(fd, 0, 8192) == sum_range(fd, 12288, 8192));
    r("negative", fallocate(fd, 0, -1, 10));
    r("zero_len", fallocate(fd, 0, 0, 0));
    close(fd);
    fd = open("f", O_RDONLY); r("readonly_fd", fallocate(fd, 0, 0, 4096)); close(fd);
}

/* ZERO_RANGE: tmpfs has none (EOPNOTSUPP); the share's host file system (ext4) has: compared with a literal. */
static void check_fallocate_zero_range(void)
{
    int fd = open("f", O_CREAT | O_RDWR, 0644);
    char block[4096]; memset(block, 0x5a, sizeof block);
    for (int i = 0; i < 8; i++) pwrite(fd, block, sizeof block, (off_t)i * 4096);
    r("zero_range", fallocate(fd, FALLOC_FL_ZERO_RANGE, 8192, 4096));
    unsigned char got[4096]; pread(fd, got, sizeof got, 8192);
    int zero = 1; for (int i = 0; i < 4096; i++) if (got[i]) zero = 0;
    say("zeroed=%d", zero); show_size("size", "f");
    r("zero_range_extend", fallocate(fd, FALLOC_FL_ZERO_RANGE, 32768, 4096)); show_size("size2", "f");
    close(fd);
}

static void check_seek_hole(void)
{
    int fd = open("f", O_CREAT | O_RDWR, 0644);
    char block[4096]; memset(block, 1, sizeof block);
    pwrite(fd, block, sizeof block, 0);
    pwrite(fd, block, sizeof block, 1 << 20);
    ftruncate(fd, 2 << 20);
    fsync(fd);
    say("hole0=%lld", (long long)lseek(fd, 0, SEEK_HOLE));
    say("data4k=%lld", (long long)lseek(fd, 4096, SEEK_DATA));
    say("hole1m=%lld", (long long)lseek(fd, 1 << 20, SEEK_HOLE));
    off_t past = lseek(fd, (1 << 20) + 8192, SEEK_DATA); say("data_past=%s", past < 0 ? ename(errno) : "found");
    off_t end = lseek(fd, 3 << 20, SEEK_HOLE); say("hole_beyond_eof=%s", end < 0 ? ename(errno) : "found");
    say("end=%lld", (long long)lseek(fd, 0, SEEK_END));
    r("bad_whence", lseek(fd, 0, 42));
    close(fd);
}

static void check_copy_range(void)
{
    put("src", "0123456789abcdefghij", 0644);
    int in = open("src", O_RDONLY), o = open("dst", O_CREAT | O_RDWR, 0644);
    loff_t ioff = 5, ooff = 3;
    ssize_t n = copy_file_range(in, &ioff, o, &ooff, 10, 0);
    r("copy", n); say("copied=%zd ioff=%lld ooff=%lld", n, (long long)ioff, (long long)ooff);
    n = copy_file_range(in, NULL, o, NULL, 4, 0); say("with_positions=%zd", n);
    say("past_eof=%zd", copy_file_range(in, &(loff_t){ 100 }, o, &(loff_t){ 0 }, 10, 0));
    r("flags", copy_file_range(in, NULL, o, NULL, 1, 1));
    close(in); close(o);
    int fd = open("dst", O_RDONLY); char buf[64]; n = read(fd, buf, sizeof buf); close(fd);
    for (ssize_t i = 0; i < n; i++) if (!buf[i]) buf[i] = '.';
    say("dst=%.*s", (int)n, buf);
    in = open("src", O_RDONLY);
    r("to_readonly", copy_file_range(in, NULL, in, &(loff_t){ 30 }, 1, 0));
    close(in);
}

static void check_tmpfile(void)
{
    int fd = open(".", O_TMPFILE | O_RDWR, 0640);
    r("tmpfile", fd);
    if (fd < 0) return;
    write(fd, "unnamed", 7);
    struct stat st; fstat(fd, &st); say("nlink=%lu mode=%o", (unsigned long)st.st_nlink, (unsigned)st.st_mode);
    DIR *d = opendir("."); int entries = 0; struct dirent *e; while ((e = readdir(d))) entries++; closedir(d);
    say("dir_entries=%d", entries);
    char proc[64]; snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    r("linkat", linkat(AT_FDCWD, proc, AT_FDCWD, "named", AT_SYMLINK_FOLLOW));
    show_content("named", "named"); show_nlink("named_nlink", "named");
    close(fd);
    fd = open(".", O_TMPFILE | O_RDWR | O_EXCL, 0600);
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    r("linkat_excl", linkat(AT_FDCWD, proc, AT_FDCWD, "never", AT_SYMLINK_FOLLOW));
    close(fd);
    r("readonly_tmpfile", open(".", O_TMPFILE | O_RDONLY, 0600));
    put("file", "", 0644);
    r("tmpfile_in_file", open("file", O_TMPFILE | O_RDWR, 0600));
}

static void check_rename2(void)
{
    put("a", "A", 0644); put("b", "B", 0644);
    r("noreplace_existing", renameat2(AT_FDCWD, "a", AT_FDCWD, "b", RENAME_NOREPLACE));
    r("noreplace_new", renameat2(AT_FDCWD, "a", AT_FDCWD, "c", RENAME_NOREPLACE));
    r("exchange", renameat2(AT_FDCWD, "b", AT_FDCWD, "c", RENAME_EXCHANGE)); show_content("b", "b"); show_content("c", "c");
    r("exchange_missing", renameat2(AT_FDCWD, "b", AT_FDCWD, "zz", RENAME_EXCHANGE));
    r("both_flags", renameat2(AT_FDCWD, "b", AT_FDCWD, "c", RENAME_EXCHANGE | RENAME_NOREPLACE));
    mkdir("d", 0755); put("d/inner", "I", 0644);
    r("exchange_dir_file", renameat2(AT_FDCWD, "d", AT_FDCWD, "c", RENAME_EXCHANGE)); show_mode("c_type", "c"); show_content("inner", "c/inner");
    r("whiteout", renameat2(AT_FDCWD, "b", AT_FDCWD, "w", RENAME_WHITEOUT));
    struct stat st;
    if (lstat("b", &st) == 0) say("whiteout_node=%o:%u:%u", (unsigned)(st.st_mode & S_IFMT), major(st.st_rdev), minor(st.st_rdev));
    else say("whiteout_node=%s", ename(errno));
    show_content("w", "w");
}

/* ---- set-id bits, groups, credentials ----------------------------------------------------------------------- */

static void user_write_setid(void)
{
    int fd = open("suid", O_WRONLY | O_APPEND); r("open", fd); r("write", write(fd, "more", 4)); close(fd);
    show_mode("suid_after_write", "suid");
    fd = open("sgid_noexec", O_WRONLY | O_APPEND); write(fd, "more", 4); close(fd);
    show_mode("sgid_noexec_after_write", "sgid_noexec");
    r("truncate", truncate("trunc", 1)); show_mode("after_truncate", "trunc");
}

static void check_setid_write(void)
{
    put("suid", "#!", 0644); chown("suid", USER, GROUP); chmod("suid", 06777);
    put("sgid_noexec", "x", 0644); chown("sgid_noexec", USER, GROUP); chmod("sgid_noexec", 02666);
    put("trunc", "xyz", 0644); chown("trunc", USER, GROUP); chmod("trunc", 06777);
    as_user("user", user_write_setid);
    /* root writing keeps the bits (CAP_FSETID) */
    put("rootsuid", "#!", 0644); chmod("rootsuid", 04755);
    int fd = open("rootsuid", O_WRONLY | O_APPEND); write(fd, "x", 1); close(fd);
    show_mode("root_write_keeps", "rootsuid");
}

static void user_create_setgid(void)
{
    umask(0);
    int fd = open("shared/escalate", O_CREAT | O_WRONLY, 02755); r("create", fd); if (fd >= 0) close(fd);
    show_mode("mode", "shared/escalate"); show_owner("owner", "shared/escalate");
    r("mkdir", mkdir("shared/subdir", 02755)); show_mode("dir_mode", "shared/subdir"); show_owner("dir_owner", "shared/subdir");
    r("mknod", mknod("shared/node", S_IFREG | 02755, 0)); show_mode("node_mode", "shared/node");
}

/* CVE-2022-0358: an unprivileged caller must not get a setgid file of a group it is not in. */
static void check_cve_2022_0358(void)
{
    mkdir("shared", 0755); chmod("shared", 03777);
    as_user("user", user_create_setgid);
}

static void user_create_in_sgid_dir(void)
{
    int fd = open("team/file", O_CREAT | O_WRONLY, 0644); r("create", fd); if (fd >= 0) close(fd);
    show_owner("file_owner", "team/file");
    r("mkdir", mkdir("team/sub", 0755)); show_owner("dir_owner", "team/sub"); show_mode("dir_mode", "team/sub");
    r("symlink", symlink("file", "team/link")); show_owner("link_owner", "team/link");
    r("mkfifo", mkfifo("team/fifo", 0644)); show_owner("fifo_owner", "team/fifo");
}

static void check_sgid_dir(void)
{
    mkdir("team", 0777); chown("team", 0, OTHER_GROUP); chmod("team", 02777);
    as_user("user", user_create_in_sgid_dir);
    r("root_create", put("team/rootfile", "", 0644)); show_owner("root_file_owner", "team/rootfile");
}

static void user_umask(void)
{
    umask(027);
    int fd = open("f", O_CREAT | O_WRONLY, 0666); close(fd); show_mode("file", "f");
    mkdir("d", 0777); show_mode("dir", "d");
    mkfifo("p", 0666); show_mode("fifo", "p");
    umask(0);
    fd = open("g", O_CREAT | O_WRONLY, 0666); close(fd); show_mode("file_umask0", "g");
    show_owner("owner", "f");
    r("mknod_device", mknod("dev", S_IFCHR | 0644, makedev(1, 3)));
}

static void check_umask_user(void)
{
    chmod(".", 0777);
    as_user("user", user_umask);
}

static void check_special_files(void)
{
    r("mkfifo", mkfifo("fifo", 0644));
    r("mknod_chr", mknod("null", S_IFCHR | 0666, makedev(1, 3)));
    r("mknod_blk", mknod("blk", S_IFBLK | 0600, makedev(7, 0)));
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    strcpy(addr.sun_path, "sock");
    r("bind_socket", bind(s, (struct sockaddr *)&addr, sizeof addr));
    close(s);
    struct stat st;
    const char *names[] = { "fifo", "null", "blk", "sock" };
    for (int i = 0; i < 4; i++) {
        if (lstat(names[i], &st) != 0) { say("%s=%s", names[i], ename(errno)); continue; }
        say("%s=%o:%u:%u", names[i], (unsigned)st.st_mode, major(st.st_rdev), minor(st.st_rdev));
    }
    DIR *d = opendir("."); struct dirent *e; int types = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, "fifo") && e->d_type == DT_FIFO) types |= 1;
        if (!strcmp(e->d_name, "null") && e->d_type == DT_CHR) types |= 2;
        if (!strcmp(e->d_name, "blk") && e->d_type == DT_BLK) types |= 4;
        if (!strcmp(e->d_name, "sock") && e->d_type == DT_SOCK) types |= 8;
    }
    closedir(d);
    say("dirent_types=%d", types);
    /* In the guest these are the guest's own device and pipe: /dev/null semantics, never the host's node. */
    int fd = open("null", O_RDWR); r("open_chr", fd);
    if (fd >= 0) { char c; say("read_null=%zd write_null=%zd", read(fd, &c, 1), write(fd, "x", 1)); close(fd); }
    fd = open("fifo", O_RDONLY | O_NONBLOCK); r("open_fifo", fd); if (fd >= 0) close(fd);
    r("open_sock", open("sock", O_RDONLY));
    r("unlink_all", unlink("fifo") | unlink("null") | unlink("blk") | unlink("sock"));
}

static void check_append_and_sparse(void)
{
    int a = open("log", O_CREAT | O_WRONLY | O_APPEND, 0644), b = open("log", O_WRONLY | O_APPEND);
    for (int i = 0; i < 5; i++) { write(a, "a", 1); write(b, "bb", 2); }
    close(a); close(b); show_content("log", "log");
    int fd = open("sparse", O_CREAT | O_RDWR, 0644);
    pwrite(fd, "end", 3, 1 << 20);
    char buf[16]; ssize_t n = pread(fd, buf, sizeof buf, 4096); int zero = 1; for (ssize_t i = 0; i < n; i++) if (buf[i]) zero = 0;
    say("hole_read=%zd zero=%d", n, zero);
    close(fd); show_size("size", "sparse");
    fd = open("sparse", O_RDONLY); say("eof_read=%zd", pread(fd, buf, sizeof buf, 2 << 20)); close(fd);
}

static void check_hardlink_rename_stat(void)
{
    put("f", "data", 0644);
    link("f", "g"); link("f", "h");
    rename("g", "i");
    show_nlink("n", "f");
    unlink("h"); show_nlink("n2", "i");
    struct stat s1, s2; stat("f", &s1); stat("i", &s2); say("same_inode=%d", s1.st_ino == s2.st_ino);
    chmod("i", 0600); show_mode("shared_mode", "f");
}

/* Shared and private mappings: a shared store reaches the file, a private one never does. */
static void check_mmap(void)
{
    put("f", "0123456789", 0644);
    int fd = open("f", O_RDWR);
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    say("shared_mapped=%d", p != MAP_FAILED);
    if (p != MAP_FAILED) {
        say("first=%c", p[0]);
        p[1] = 'X';
        r("msync", msync(p, 4096, MS_SYNC));
        munmap(p, 4096);
    }
    close(fd);
    show_content("after_shared_store", "f");
    fd = open("g", O_RDWR | O_CREAT, 0644);
    r("extend", ftruncate(fd, 8192));
    char *q = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (q != MAP_FAILED) { memset(q + 4096, 'z', 10); munmap(q, 8192); }
    close(fd);
    char buf[16] = { 0 };
    fd = open("g", O_RDONLY); say("second_page_read=%zd", pread(fd, buf, 10, 4096)); close(fd);
    say("second_page=%.10s", buf);
    fd = open("f", O_RDONLY);
    char *pr = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    say("private_mapped=%d", pr != MAP_FAILED);
    if (pr != MAP_FAILED) { pr[0] = 'P'; say("private_sees=%c", pr[0]); munmap(pr, 4096); }
    close(fd);
    show_content("after_private_store", "f");
    fd = open("f", O_RDONLY);
    say("shared_write_on_readonly_fd=%s", mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ? ename(errno) : "mapped");
    close(fd);
}

/* A directory stream: telldir/seekdir come back to the same entries, rewinddir sees a new one, entries removed
 * while listing do not break the listing (the share keeps its own position per handle). */
static void check_dir_stream(void)
{
    mkdir("d", 0755);
    for (int i = 0; i < 150; i++) { char n[32]; snprintf(n, sizeof n, "d/entry-with-a-long-name-%03d", i); put(n, "", 0644); }
    DIR *d = opendir("d");
    struct dirent *e;
    for (int i = 0; i < 40; i++) e = readdir(d);
    long mark = telldir(d);
    char after[5][256];
    for (int i = 0; i < 5; i++) { e = readdir(d); snprintf(after[i], sizeof after[i], "%s", e ? e->d_name : "?"); }
    for (int i = 0; i < 30; i++) readdir(d);
    seekdir(d, mark);
    int same = 1;
    for (int i = 0; i < 5; i++) { e = readdir(d); if (!e || strcmp(e->d_name, after[i]) != 0) same = 0; }
    say("seek_back_same=%d", same);
    put("d/new-file", "", 0644);
    rewinddir(d);
    int total = 0, sees_new = 0;
    while ((e = readdir(d)) != NULL) { total++; if (!strcmp(e->d_name, "new-file")) sees_new = 1; }
    say("after_rewind=%d sees_new=%d", total, sees_new);
    rewinddir(d);
    int seen = 0, removed = 0;
    while ((e = readdir(d)) != NULL) {
        seen++;
        if (seen == 20) for (int i = 100; i < 150; i++) { char n[40]; snprintf(n, sizeof n, "d/entry-with-a-long-name-%03d", i); if (unlink(n) == 0) removed++; }
        if (seen > 1000) break;
    }
    say("removed=%d listing_ended=%d", removed, seen <= 1000);
    closedir(d);
    d = opendir("d"); total = 0;
    while ((e = readdir(d)) != NULL) total++;
    closedir(d);
    say("after_removal=%d", total);
}

/* ---- driver ------------------------------------------------------------------------------------------------- */

struct check { const char *name; void (*fn)(void); };

static const struct check checks[] = {
    { "mkdir", check_mkdir }, { "chmod", check_chmod }, { "chown", check_chown }, { "link", check_link },
    { "mkfifo", check_mkfifo }, { "open", check_open }, { "rename", check_rename }, { "rmdir", check_rmdir },
    { "symlink", check_symlink }, { "truncate", check_truncate }, { "ftruncate", check_ftruncate },
    { "unlink", check_unlink }, { "utimensat", check_utimensat }, { "granular", check_granular },
    { "xattr_trusted", check_xattr_trusted }, { "xattr_user", check_xattr_user },
    { "posix_lock", check_posix_lock }, { "posix_lock_wait", check_posix_lock_wait }, { "flock", check_flock },
    { "fallocate", check_fallocate }, { "fallocate_zero_range", check_fallocate_zero_range }, { "seek_hole", check_seek_hole }, { "copy_range", check_copy_range },
    { "tmpfile", check_tmpfile }, { "rename2", check_rename2 }, { "setid_write", check_setid_write },
    { "cve_2022_0358", check_cve_2022_0358 }, { "sgid_dir", check_sgid_dir }, { "umask_user", check_umask_user },
    { "special_files", check_special_files }, { "append_sparse", check_append_and_sparse },
    { "hardlinks", check_hardlink_rename_stat }, { "mmap", check_mmap }, { "dir_stream", check_dir_stream },
};

int main(int argc, char **argv)
{
    size_t count = sizeof checks / sizeof checks[0];
    if (argc == 2 && !strcmp(argv[1], "--list")) {
        for (size_t i = 0; i < count; i++) puts(checks[i].name);
        return 0;
    }
    if (argc != 2) { fprintf(stderr, "usage: posixcheck DIR | --list\n"); return 2; }
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (size_t i = 0; i < count; i++) {
        int p[2];
        if (pipe(p) != 0) return 1;
        pid_t pid = fork();
        if (pid == 0) {
            close(p[0]);
            char dir[PATH_MAX];
            snprintf(dir, sizeof dir, "%s/%s", argv[1], checks[i].name);
            umask(022);
            if (mkdir(dir, 0755) != 0 || chdir(dir) != 0) { dprintf(p[1], "setup=%s", ename(errno)); _exit(1); }
            alarm(20);
            used = 0; out[0] = 0;
            checks[i].fn();
            ssize_t ignored = write(p[1], out, used);
            (void)ignored;
            _exit(0);
        }
        close(p[1]);
        char buf[8192]; ssize_t n, total = 0;
        while ((n = read(p[0], buf + total, sizeof buf - 1 - (size_t)total)) > 0) total += n;
        close(p[0]);
        int status;
        waitpid(pid, &status, 0);
        buf[total] = 0;
        if (WIFSIGNALED(status)) printf("CHECK %s KILLED-BY-SIGNAL-%d %s\n", checks[i].name, WTERMSIG(status), buf);
        else printf("CHECK %s %s\n", checks[i].name, buf);
    }
    return 0;
}
