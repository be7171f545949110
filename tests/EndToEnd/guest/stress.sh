# Heavy I/O until the host kills QEMU (RobustnessTests): sourced by /init with the share at $MNT.
# Prints "E2E INFO stress-io-running" once writes are flowing; never returns.
n=0
while true; do
    dd if=/dev/zero of="$MNT/stress-$n.bin" bs=1M count=64 conv=fsync 2>/dev/null &
    dd_pid=$!
    [ $n -eq 0 ] && { sleep 1; info "stress-io-running"; }
    wait $dd_pid
    cat "$MNT/stress-$n.bin" >/dev/null
    rm -f "$MNT/stress-$n.bin"
    n=$(( (n + 1) % 4 ))
done
