# Guest-side benchmark, sourced by /init with the share mounted at $MNT (host side: scripts/bench-guest.sh).
# Each workload is timed with /proc/uptime (10 ms steps) and reported as "E2E VALUE gb_NAME centiseconds"; sizes are
# chosen so that each takes a second or more under TCG. Shell builtins only inside the loops (no fork per file).
D=$MNT/guestbench
rm -rf "$D" && mkdir -p "$D" || fail gb_setup "mkdir $D"

now_cs() { read -r up _ </proc/uptime; echo "${up%.*}${up#*.}"; }
timed() {   # timed NAME COMMAND...: runs COMMAND, reports its wall time
    _name=$1
    shift
    _start=$(now_cs)
    "$@" || fail "gb_$_name" "failed: $*"
    value "gb_$_name" $(($(now_cs) - _start))
}

create_files() { i=0; while [ $i -lt 1000 ]; do echo "file $i" >"$D/small/f$i"; i=$((i + 1)); done; }
read_files() { i=0; while [ $i -lt 1000 ]; do read -r _ <"$D/small/f$i"; i=$((i + 1)); done; }
remove_files() { rm -f "$D"/small/f*; }

info "guestbench: 256 MiB sequential write and read, 1,000 small files"
timed seq_write_256m dd if=/dev/zero of="$D/big" bs=1M count=256 conv=fsync
drop_caches
timed seq_read_256m dd if="$D/big" of=/dev/null bs=1M
mkdir "$D/small"
timed create_1000 create_files
drop_caches
timed list_1000 ls -l "$D/small"
drop_caches
timed read_1000 read_files
timed remove_1000 remove_files
rm -rf "$D"
pass guestbench "done"
