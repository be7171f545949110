# After the kills and the reboot (RobustnessTests): a fresh guest mounts the same share and works.
value kept_sha256 "$(sha256sum "$MNT/kept.bin" | cut -d' ' -f1)"
check verify_reboot_file "before-reboot.bin survived" test -s "$MNT/before-reboot.bin"
echo "after the storms" >"$MNT/after.txt"
drop_caches
check_eq verify_write "$(cat "$MNT/after.txt")" "after the storms"
check verify_list "the share lists" ls "$MNT/kept.bin"
