# Demo, sourced by /init with the share mounted at $MNT (see scripts/demo.sh).
echo
echo "guest: the host directory, as the guest sees it (ls -l $MNT):"
ls -l "$MNT"
echo
echo "guest: writing $MNT/hello-from-guest.txt"
seen=$(ls "$MNT" | tr '\n' ' ')
{
    echo "Hello from the guest!"
    echo "Written by kernel $(uname -r) through virtio-fs (tag '$TAG')."
    echo "Before writing it, the guest saw: $seen"
} >"$MNT/hello-from-guest.txt"
check demo_write "hello-from-guest.txt" test -s "$MNT/hello-from-guest.txt"
echo "guest: reading it back:"
cat "$MNT/hello-from-guest.txt"
echo
