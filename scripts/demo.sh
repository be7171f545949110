#!/usr/bin/env bash
# The VirtioFs demo: a Linux guest (in QEMU) reads and writes a host directory through virtio-fs,
# served by our daemon, virtiofs-host.
#
#   scripts/demo.sh                        build, then share a demo directory with virtiofs-host
#   scripts/demo.sh --daemon virtiofsd     the same with the C virtiofsd that ships with QEMU
#   scripts/demo.sh --dir /some/dir        share that directory instead of a fresh one in /tmp
#
# What happens: build the solution (Release); build the guest (Debian kernel + busybox initramfs,
# cached, see scripts/prepare-guest.sh); put a few files in the demo directory; start the daemon
# on it; boot QEMU, whose guest mounts the share, lists it, writes hello-from-guest.txt and powers
# off; show the directory and that file from the host side.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
daemon=virtiofs-host
demo_dir=
tag=demo

usage() { sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while (($#)); do
    case $1 in
        --daemon) daemon=${2:?--daemon needs virtiofs-host or virtiofsd}; shift 2 ;;
        --daemon=*) daemon=${1#--daemon=}; shift ;;
        --dir) demo_dir=${2:?--dir needs a directory}; shift 2 ;;
        --dir=*) demo_dir=${1#--dir=}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "demo: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done

bold=$'\e[1m' dim=$'\e[2m' green=$'\e[32m' red=$'\e[31m' reset=$'\e[0m'
if [[ ! -t 1 ]]; then bold= dim= green= red= reset=; fi
step=0
section() { step=$((step + 1)); echo; echo "${bold}== $step. $* ==${reset}"; }
note() { echo "   $*"; }
die() { echo "${red}demo: $*${reset}" >&2; exit 1; }

case $daemon in
    virtiofs-host) ;;
    virtiofsd) [[ -x /usr/lib/qemu/virtiofsd ]] || die "/usr/lib/qemu/virtiofsd not found (apt-get install qemu-system-x86)" ;;
    *) die "--daemon must be virtiofs-host or virtiofsd, not '$daemon'" ;;
esac

work=$(mktemp -d /tmp/virtiofs-demo.XXXXXX)
socket="$work/vhost-user.sock"
daemon_log="$work/daemon.log"
daemon_pid=
cleanup() {
    if [[ -n $daemon_pid ]] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill "$daemon_pid" 2>/dev/null || true
        wait "$daemon_pid" 2>/dev/null || true
    fi
    rm -f "$socket"
}
trap cleanup EXIT

# --- 1. build ------------------------------------------------------------------------------------
if [[ $daemon == virtiofs-host ]]; then
    section "Building the solution (dotnet build -c Release)"
    (cd "$repo" && dotnet build -c Release --nologo -v quiet) | sed 's/^/   /' || die "the build failed"
    host_dll="$repo/src/Host/bin/Release/net8.0/virtiofs-host.dll"
    [[ -f $host_dll ]] || die "$host_dll is missing after the build"
else
    section "Building: skipped (the C virtiofsd needs no build)"
fi

# --- 2. guest ------------------------------------------------------------------------------------
section "Preparing the guest: Debian kernel + busybox initramfs (cached in .cache/guest)"
paths=$(bash "$repo/scripts/prepare-guest.sh" 2> >(sed 's/^/   /' >&2))
kernel=$(sed -n 's/^GUEST_KERNEL=//p' <<<"$paths")
initrd=$(sed -n 's/^GUEST_INITRD=//p' <<<"$paths")
note "kernel:    $kernel"
note "initramfs: $initrd"

# --- 3. the shared directory ---------------------------------------------------------------------
section "The directory the host shares"
if [[ -z $demo_dir ]]; then
    demo_dir="$work/share"
    mkdir -p "$demo_dir/notes"
    printf 'This directory lives on the host.\nThe guest sees it at /mnt through virtio-fs.\n' >"$demo_dir/README.txt"
    printf 'name,answer\nlife,42\n' >"$demo_dir/numbers.csv"
    printf -- '- run the demo\n- read DESIGN.md\n' >"$demo_dir/notes/todo.txt"
fi
mkdir -p "$demo_dir"
demo_dir=$(cd "$demo_dir" && pwd)
rm -f "$demo_dir/hello-from-guest.txt"
note "$demo_dir"
(cd "$demo_dir" && ls -l) | sed 's/^/   /'

# --- 4. the daemon -------------------------------------------------------------------------------
args=(--socket-path="$socket" -o source="$demo_dir" -o cache=auto)
if [[ $daemon == virtiofs-host ]]; then
    cmd=(dotnet "$host_dll" "${args[@]}")
else
    cmd=(/usr/lib/qemu/virtiofsd "${args[@]}")
fi
section "Starting the daemon: $daemon"
note "${dim}${cmd[*]}${reset}"
"${cmd[@]}" >"$daemon_log" 2>&1 &
daemon_pid=$!
for _ in $(seq 300); do
    [[ -S $socket ]] && break
    if ! kill -0 "$daemon_pid" 2>/dev/null; then
        wait "$daemon_pid" && rc=0 || rc=$?
        daemon_pid=
        sed 's/^/   | /' "$daemon_log"
        hint=
        [[ $daemon == virtiofs-host ]] && hint=" (to see the demo work with the C daemon: scripts/demo.sh --daemon virtiofsd)"
        die "$daemon exited with code $rc before opening its socket$hint"
    fi
    sleep 0.1
done
[[ -S $socket ]] || die "$daemon did not create $socket within 30 s (log: $daemon_log)"
note "listening on $socket (log: $daemon_log)"

# --- 5. the guest --------------------------------------------------------------------------------
section "Booting the guest (QEMU, TCG; about 10-20 s)"
note "${dim}the guest runs tests/EndToEnd/guest/demo.sh; its console follows${reset}"
# shellcheck source=scripts/lib/guest-qemu.sh
. "$repo/scripts/lib/guest-qemu.sh"
guest_qemu_command "$socket" "$kernel" "$initrd" "$tag" demo
# stdin from /dev/null: -nographic would otherwise put this terminal in raw mode.
# The console filter drops firmware chatter and terminal escapes and turns result lines into words.
rc=0
timeout 300 "${QEMU_COMMAND[@]}" </dev/null 2>&1 |
    sed -u -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' -e 's/\r$//' |
    awk -v green="$green" -v red="$red" -v reset="$reset" '
        /SeaBIOS|iPXE|Booting from|Press Ctrl-B/ || /^[[:space:]]*$/ { next }
        /E2E INFO/  { sub(/.*E2E INFO /, ""); print "   guest | " $0; fflush(); next }
        /E2E CHECK/ { sub(/.*E2E CHECK /, ""); ok = ($2 == "PASS"); name = $1; $1 = ""; $2 = "";
                      sub(/^ +/, ""); printf "   guest | %s%s %s%s  %s\n", (ok ? green : red), (ok ? "ok  " : "FAIL"), name, reset, $0; fflush(); next }
        /E2E DONE/  { next }
        { print "   guest | " $0; fflush() }' || rc=$?
((rc == 0)) || die "QEMU failed or timed out (exit code $rc)"

# --- 6. back on the host -------------------------------------------------------------------------
section "Back on the host: $demo_dir"
(cd "$demo_dir" && ls -l) | sed 's/^/   /'
if [[ -f $demo_dir/hello-from-guest.txt ]]; then
    echo
    note "hello-from-guest.txt, written by the guest:"
    sed 's/^/   > /' "$demo_dir/hello-from-guest.txt"
    echo
    echo "${green}${bold}Done:${reset} the guest read the host's files and wrote one back, through $daemon."
else
    die "the guest did not write hello-from-guest.txt (see the console above and $daemon_log)"
fi
