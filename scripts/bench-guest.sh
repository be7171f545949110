#!/usr/bin/env bash
# The guest-side benchmark: a Linux guest (QEMU, TCG) runs the same file workloads on a virtio-fs mount served by
# the C virtiofsd and by our virtiofs-host, alternately, and the figures are printed side by side.
#
#   scripts/bench-guest.sh              3 rounds per daemon (about 4 minutes on 2 cores)
#   scripts/bench-guest.sh --rounds N   N rounds per daemon; each figure is the median over the rounds
#
# The workloads (tests/EndToEnd/guest/guestbench.sh): dd 256 MiB write (conv=fsync) and read back after
# drop_caches, 1,000 small files created, listed with ls -l, read and removed. Both daemons run with -o cache=auto
# on a fresh directory in /tmp. Under TCG the guest's own CPU emulation is a large part of every figure, so the
# differences between the daemons are smaller here than in scripts/bench.sh, whose frontend-driven figures are the
# headline (docs/benchmark.md).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=3
while (($#)); do
    case $1 in
        --rounds) rounds=${2:?--rounds needs a number}; shift 2 ;;
        -h | --help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-guest: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
die() { echo "bench-guest: $*" >&2; exit 1; }
[[ -x /usr/lib/qemu/virtiofsd ]] || die "/usr/lib/qemu/virtiofsd not found (scripts/install-deps.sh installs QEMU)"

log=$(dotnet build "$repo/src/Host/VirtioFs.Host.csproj" -c Release -nologo -v quiet 2>&1) || { echo "$log" >&2; die "the build failed"; }
host_dll="$repo/src/Host/bin/Release/net8.0/virtiofs-host.dll"
paths=$(bash "$repo/scripts/prepare-guest.sh") || die "guest preparation failed"
kernel=$(sed -n 's/^GUEST_KERNEL=//p' <<<"$paths")
initrd=$(sed -n 's/^GUEST_INITRD=//p' <<<"$paths")
# shellcheck source=scripts/lib/guest-qemu.sh
. "$repo/scripts/lib/guest-qemu.sh"

work=$(mktemp -d /tmp/virtiofs-guestbench.XXXXXX)
daemon_pid=
cleanup() {
    [[ -n $daemon_pid ]] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# run_once DAEMON ROUND: one boot; appends "DAEMON NAME CENTISECONDS" lines to $work/results.
run_once() {
    local daemon=$1 round=$2 socket="$work/$1.sock" share="$work/share-$1" console="$work/$1-$2.console"
    mkdir -p "$share"
    local args=(--socket-path="$socket" -o source="$share" -o cache=auto)
    if [[ $daemon == virtiofsd ]]; then
        /usr/lib/qemu/virtiofsd "${args[@]}" >"$work/$daemon.log" 2>&1 &
    else
        dotnet "$host_dll" "${args[@]}" >"$work/$daemon.log" 2>&1 &
    fi
    daemon_pid=$!
    for _ in $(seq 300); do [[ -S $socket ]] && break; sleep 0.1; done
    [[ -S $socket ]] || { cat "$work/$daemon.log" >&2; die "$daemon did not open $socket"; }
    guest_qemu_command "$socket" "$kernel" "$initrd" bench guestbench
    timeout 600 "${QEMU_COMMAND[@]}" </dev/null >"$console" 2>&1 || die "QEMU failed or timed out with $daemon (console: $console)"
    # virtiofsd exits when the guest is gone; ours listens for the next one (a feature), so it is stopped here.
    kill "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
    daemon_pid=
    grep -q "E2E CHECK guestbench PASS" "$console" || { tr -d '\r' <"$console" | grep "E2E" >&2; die "the guest run failed with $daemon"; }
    local values
    values=$(tr -d '\r' <"$console" | sed -n 's/.*E2E VALUE gb_\([a-z0-9_]*\) \([0-9]*\).*/\1 \2/p')
    while read -r name cs; do echo "$daemon $name $cs"; done <<<"$values" >>"$work/results"
    echo "  round $round, $daemon: $(tr ' \n' '= ' <<<"$values")(centiseconds)" >&2
}

echo "guest-side benchmark: $rounds round(s) per daemon, alternating; QEMU TCG, 2 vCPUs, kernel $(basename "$(dirname "$kernel")")" >&2
for round in $(seq "$rounds"); do
    if ((round % 2)); then order=(virtiofsd virtiofs-host); else order=(virtiofs-host virtiofsd); fi
    for daemon in "${order[@]}"; do run_once "$daemon" "$round"; done
done

# Medians per daemon and workload, then one table: time, the rate it means, and virtiofsd's time over ours.
awk -v rounds="$rounds" '
    { t[$1 " " $2] = t[$1 " " $2] " " $3; names[$2] = 1 }
    function median(list,    a, n, i, j, x) {
        n = split(list, a, " ")
        for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function rate(name, cs) {
        if (cs <= 0) return "-"
        if (name ~ /_256m$/) return sprintf("%.1f MB/s", 256 * 1.048576 / (cs / 100))
        return sprintf("%.0f files/s", 1000 / (cs / 100))
    }
    END {
        printf "\n| workload | virtiofsd s | ours s | virtiofsd | ours | ours faster by |\n|---|---:|---:|---:|---:|---:|\n"
        split("seq_write_256m seq_read_256m create_1000 list_1000 read_1000 remove_1000", order, " ")
        for (k = 1; k <= 6; k++) {
            name = order[k]
            if (!(name in names)) continue
            a = median(t["virtiofsd " name]); b = median(t["virtiofs-host " name])
            printf "| %s | %.2f | %.2f | %s | %s | %s |\n", name, a / 100, b / 100, rate(name, a), rate(name, b),
                (b > 0 ? sprintf("%.2fx", a / b) : "-")
        }
        printf "\nmedian of %d round(s) each; times from the guest'"'"'s /proc/uptime (10 ms steps)\n", rounds
    }' "$work/results"
