# Some I/O, then "reboot -f" with the share still mounted (RobustnessTests): QEMU runs with -no-reboot, so the
# reboot ends QEMU and the daemon sees its front-end go away mid-session, as after a guest reboot.
dd if=/dev/urandom of="$MNT/before-reboot.bin" bs=1M count=8 2>/dev/null
check reboot_write "8 MiB written before the reboot" test -s "$MNT/before-reboot.bin"
dd if=/dev/zero of="$MNT/during-reboot.bin" bs=1M count=256 2>/dev/null &
sleep 1
info "rebooting"
reboot -f
sleep 30
