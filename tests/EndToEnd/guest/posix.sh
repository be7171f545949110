# POSIX suite, sourced by /init with the share mounted at $MNT (host side: PosixSuite.cs, keep the check names in
# step with tests/EndToEnd/helpers/posixcheck.c). The static helper runs every check once in a directory on the
# virtio-fs mount and once on a guest-local tmpfs; a check passes when both outcomes are equal (the local file system
# is the reference). Two checks have a literal reference instead, because the guest kernel's tmpfs lacks the feature
# the share's host file system (ext4) has: user.* xattrs (tmpfs has them from 6.6) and FALLOC_FL_ZERO_RANGE.
HELPER=/e2e/bin/posixcheck
V=$MNT/posix
L=/tmp/posix-local

REF_xattr_user="set=ok size=9 get=ok value=value-one small_buffer=ERANGE create_existing=EEXIST replace_missing=ENODATA set_b=ok empty_size=0 replace=ok value2=two listed_mine=2 get_missing=ENODATA remove=ok remove_again=ENODATA set_1000=ok size_1000=1000 on_dir=ok bad_namespace=EOPNOTSUPP user_on_symlink=EPERM"
REF_fallocate_zero_range="zero_range=ok zeroed=1 size=32768 zero_range_extend=ok size2=36864"

mkdir -p "$L" && mount -t tmpfs -o mode=0777 tmpfs "$L" || fail px_setup "tmpfs mount"
mkdir "$V" && chmod 0777 "$V" || fail px_setup "mkdir $V"

info "posixcheck on virtio-fs"
"$HELPER" "$V" >/tmp/posix-virtiofs.out 2>&1
info "posixcheck on tmpfs"
"$HELPER" "$L" >/tmp/posix-tmpfs.out 2>&1

for name in $("$HELPER" --list); do
    got=$(grep "^CHECK $name " /tmp/posix-virtiofs.out | cut -d' ' -f3-)
    eval "ref=\${REF_$name:-}"
    [ -n "$ref" ] || ref=$(grep "^CHECK $name " /tmp/posix-tmpfs.out | cut -d' ' -f3-)
    if [ -n "$got" ] && [ "$got" = "$ref" ]; then
        pass "px_$name" "$got"
    else
        fail "px_$name" "virtio-fs: $got | reference: $ref"
    fi
done
cd /
umount "$L"
