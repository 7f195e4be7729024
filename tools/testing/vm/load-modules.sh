#!/bin/bash
# Run inside the vm-run guest: load the kernel modules vhostx needs, then
# insmod vhostx.ko, vhostx_net.ko and vhostx_test.ko from this build tree
# (never a DKMS-installed copy), or from the tree in $VX_MODULES (modules
# built for another kernel, e.g. by tools/testing/kernels/build-newer.sh).
# Modules that are not built are skipped with a message.  "-u" unloads
# them instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
tree=${VX_MODULES:-.}

mods=("$tree/drivers/vhostx/vhostx.ko" "$tree/drivers/vhostx/net/vhostx_net.ko"
	"$tree/drivers/vhostx/test/vhostx_test.ko")
name() { basename "$1" .ko; }

if [ "${1:-}" = -u ]; then
	for ((i = ${#mods[@]} - 1; i >= 0; i--)); do
		n=$(name "${mods[i]}")
		[ ! -d "/sys/module/$n" ] || rmmod "$n"
	done
	exit 0
fi

# The kernel's own modules: vhostx's dependencies, and vhost_net to
# compare against.
modprobe -a vhost_iotlb tun tap macvtap vhost_net

# Anything loaded under our names now did not come from this tree (for
# example a DKMS copy): unload it so it cannot shadow the build.
for ((i = ${#mods[@]} - 1; i >= 0; i--)); do
	n=$(name "${mods[i]}")
	if [ -d "/sys/module/$n" ]; then
		echo "load-modules: unloading an already loaded $n"
		rmmod "$n"
	fi
done

for m in "${mods[@]}"; do
	if [ ! -f "$m" ]; then
		echo "load-modules: $m not built, skipping"
		continue
	fi
	insmod "$m"
	echo "load-modules: loaded $m"
done
