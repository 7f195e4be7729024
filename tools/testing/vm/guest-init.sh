#!/bin/bash
# Stage 2 of the vm-run guest: PID 1 after switch_root into the host's
# root (read-only 9p).  Sets up a sane environment, runs the command that
# vm-run wrote to $VM_RESULTS/cmd.sh, saves its status, the kernel log and
# the taint flags to $VM_RESULTS, then reboots (QEMU runs with -no-reboot,
# so that ends QEMU).  Never returns: PID 1 exiting would panic the guest.
set -u

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp TERM=dumb LANG=C.UTF-8 VM_GUEST=1

for arg in $(</proc/cmdline); do
	case "$arg" in
	vmrun.repo=*)    repo="${arg#*=}" ;;
	vmrun.results=*) VM_RESULTS="${arg#*=}" ;;
	vmrun.deadline=*) deadline="${arg#*=}" ;;
	esac
done
export VM_RESULTS

reboot_now() {
	sync
	echo b > /proc/sysrq-trigger
	sleep 10
}
trap reboot_now EXIT

# Pseudo file systems the tests may need.
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
ln -sf /proc/self/fd /dev/fd
ip link set lo up 2>/dev/null
hostname vm
echo 1 > /proc/sys/kernel/sysrq
# Hung-task reports after 60 s rather than 120 s; ignore if absent.
echo 60 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null

# Shortly before the host kills a hung guest, dump blocked tasks and
# CPU backtraces to the console so the log shows where it hung.
left=$(( ${deadline:-0} - $(date +%s) ))
if [ "$left" -gt 40 ]; then
	( sleep $((left - 30)); echo "vm-run(guest): timeout near, dumping tasks"
	  echo w > /proc/sysrq-trigger; echo l > /proc/sysrq-trigger ) &
fi

cd "$repo" || exit 1
echo "vm-run(guest): up after $(cut -d' ' -f1 /proc/uptime)s, kernel $(uname -r)"
bash "$VM_RESULTS/cmd.sh" </dev/null
rc=$?
echo "vm-run(guest): command exited with status $rc"

# Let kmemleak (debug kernels) report leaks before the log is saved.
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan > /sys/kernel/debug/kmemleak; sleep 5
	echo scan > /sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak > "$VM_RESULTS/kmemleak.txt"
fi
dmesg > "$VM_RESULTS/dmesg.txt"
cat /proc/sys/kernel/tainted > "$VM_RESULTS/tainted"
echo "$rc" > "$VM_RESULTS/status"
exit 0
