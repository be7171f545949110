# Basic suite, sourced by /init with the share mounted at $MNT.
# The host prepared $MNT/input (BasicSuite.PrepareShare in BasicSuite.cs: keep the two in step)
# and afterwards verifies what this script leaves in $MNT/out. Check names are fixed: the host
# fails the test for any expected name that is missing.
IN=$MNT/input
OUT=$MNT/out
MiB=1048576

# list: a host-made tree, names only (sorted here: readdir order is the daemon's business).
check_eq list "$(ls -1A "$IN/tree" | sort | tr '\n' ' ')" ".hidden a.txt b.txt empty sub "

# read_host_file: contents the host wrote, including one level down and an empty file.
check_eq read_host_file "$(cat "$IN/tree/a.txt")|$(cat "$IN/tree/sub/c.txt")|$(stat -c %s "$IN/tree/empty")" \
    "alpha|charlie in sub|0"

mkdir "$OUT" || fail mkdir_out "mkdir $OUT"
cd "$OUT" || fail cd_out "cd $OUT"

# create: O_CREAT of a new, empty file.
: >created.txt
check create "created.txt, size $(stat -c %s created.txt 2>&1)" \
    test -f created.txt -a "$(stat -c %s created.txt)" = 0

# write_read: write, forget the page cache, read back through the daemon.
printf 'hello from the guest\n' >written.txt
drop_caches
check_eq write_read "$(cat written.txt)" "hello from the guest"

# rename: the old name disappears, the new one has the content.
printf 'renamed content\n' >before-rename.txt
mv before-rename.txt after-rename.txt
if [ ! -e before-rename.txt ] && [ "$(cat after-rename.txt)" = "renamed content" ]; then
    pass rename "before-rename.txt -> after-rename.txt"
else
    fail rename "old exists: $([ -e before-rename.txt ] && echo yes || echo no), new: '$(cat after-rename.txt 2>&1)'"
fi

# symlink: a relative target, readlink, and following it.
ln -s written.txt symlink-to-written
check_eq symlink "$(readlink symlink-to-written)|$(cat symlink-to-written)" "written.txt|hello from the guest"

# hardlink: two names, one inode, link count 2 seen from both names.
ln written.txt hardlink.txt
drop_caches
check_eq hardlink "$(stat -c %h written.txt) $(stat -c %h hardlink.txt) $([ "$(stat -c %i written.txt)" = "$(stat -c %i hardlink.txt)" ] && echo same-inode || echo different-inodes)" \
    "2 2 same-inode"

# chmod: the new mode is what stat reports.
printf 'mode\n' >mode.txt
chmod 0640 mode.txt
drop_caches
check_eq chmod "$(stat -c %a mode.txt)" "640"

# truncate: shrink a 100000-byte file, and extend an empty one (the host checks the zeros).
dd if=/dev/zero of=truncated.bin bs=1000 count=100 2>/dev/null
truncate -s 12345 truncated.bin
truncate -s $MiB extended.bin
drop_caches
check_eq truncate "$(stat -c %s truncated.bin)" "12345"
check_eq truncate_extend "$(stat -c %s extended.bin)" "$MiB"

# mkdir / rmdir, and rmdir refusing a directory that still has an entry.
mkdir made-dir
check mkdir "made-dir" test -d made-dir
mkdir removed-dir
rmdir removed-dir
check rmdir "removed-dir" test ! -e removed-dir
mkdir full-dir
: >full-dir/keep
if out=$(rmdir full-dir 2>&1); then
    fail rmdir_nonempty "rmdir of a non-empty directory succeeded"
else
    check rmdir_nonempty "$out" test -d full-dir -a -f full-dir/keep
fi

# unlink: the name is gone.
printf 'gone\n' >unlinked.txt
rm unlinked.txt
check unlink "unlinked.txt" test ! -e unlinked.txt

# guest_big: 64 MiB of random bytes written by the guest; the host compares its own SHA-256.
dd if=/dev/urandom of=guest-big.bin bs=$MiB count=64 2>/dev/null
sync
sum_written=$(sha256sum guest-big.bin | cut -d' ' -f1)
value guest_big_sha256 "$sum_written"
check_eq guest_big "$(stat -c %s guest-big.bin)" "$((64 * MiB))"
drop_caches
check_eq guest_big_readback "$(sha256sum guest-big.bin | cut -d' ' -f1)" "$sum_written"

# host_big: 64 MiB the host wrote; the host also compares the printed value with its own.
sum_read=$(sha256sum "$IN/big.bin" | cut -d' ' -f1)
value host_big_sha256 "$sum_read"
check_eq host_big "$sum_read" "$(cat "$IN/big.bin.sha256")"

# many_list: 2,000 host-made entries, listed completely (several READDIR rounds).
check_eq many_list "$(ls -1 "$IN/many" | wc -l) $(ls -1 "$IN/many" | sort -u | wc -l) $(ls -1 "$IN/many" | sort | head -n 1) $(ls -1 "$IN/many" | sort | tail -n 1)" \
    "2000 2000 f0000 f1999"

# out_list: what is left for the host; removed and renamed-away names must not be listed.
check_eq out_list "$(ls -1A | sort | tr '\n' ' ')" \
    "after-rename.txt created.txt extended.bin full-dir guest-big.bin hardlink.txt made-dir mode.txt symlink-to-written truncated.bin written.txt "
cd /
