# Check helpers for the guest scripts (sourced by /init). One line per result on the serial
# console, always starting with "E2E ", so the host finds it even between kernel messages.
E2E_CHECKS=0

# pass NAME [DETAIL] / fail NAME [DETAIL]: NAME is one word; the host expects a fixed set of names.
pass() { E2E_CHECKS=$((E2E_CHECKS + 1)); echo "E2E CHECK $1 PASS ${2:-}"; }
fail() { E2E_CHECKS=$((E2E_CHECKS + 1)); echo "E2E CHECK $1 FAIL ${2:-}"; }

# value NAME VALUE: a measurement the host compares with its own (checksums).
value() { echo "E2E VALUE $1 $2"; }

# info TEXT: a progress line the host shows in its log, never parsed as a result.
info() { echo "E2E INFO $*"; }

# check_eq NAME ACTUAL EXPECTED
check_eq() {
    if [ "$2" = "$3" ]; then pass "$1" "'$2'"; else fail "$1" "got '$2', expected '$3'"; fi
}

# check NAME DETAIL COMMAND...: passes when COMMAND succeeds.
check() {
    _name=$1 _detail=$2
    shift 2
    if "$@"; then pass "$_name" "$_detail"; else fail "$_name" "$_detail"; fi
}

# drop_caches: forget cached pages and dentries, so the next read goes through FUSE to the daemon.
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
