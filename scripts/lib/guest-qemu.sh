# Sourced by scripts/demo.sh and scripts/bench-guest.sh: the QEMU command line that boots the test guest
# (scripts/prepare-guest.sh) against a vhost-user-fs socket. TCG, because KVM hangs on these machines (DESIGN.md).
#   guest_qemu_command SOCKET KERNEL INITRD TAG TEST   fills the array QEMU_COMMAND; the guest runs
#                                                      tests/EndToEnd/guest/TEST.sh with the share at /mnt
guest_qemu_command() {
    local socket=$1 kernel=$2 initrd=$3 tag=$4 test=$5
    QEMU_COMMAND=(qemu-system-x86_64 -accel tcg -smp 2 -m 512M
        -object memory-backend-memfd,id=mem,size=512M,share=on -numa node,memdev=mem
        -chardev socket,id=char0,path="$socket"
        -device vhost-user-fs-pci,chardev=char0,tag="$tag",queue-size=1024
        -nic none -kernel "$kernel" -initrd "$initrd"
        -append "console=ttyS0 quiet panic=-1 vfs_tag=$tag vfs_test=$test"
        -nographic -no-reboot)
}
