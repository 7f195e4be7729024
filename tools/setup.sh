#!/bin/bash
# Install what building and testing vhostx needs on Debian 12, then
# extract the kselftest headers and checkpatch.pl from linux-source into
# build/kselftest/.  Idempotent and non-interactive (CI=true, no stdin):
# apt is skipped entirely when every package is already installed.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

pkgs=(
	linux-image-amd64 linux-headers-amd64 linux-source-6.1  # kernel, headers, kselftest sources
	gcc make bc kmod                  # module builds, depmod/modprobe
	gcc-multilib                      # 32-bit selftests (compat_ioctl)
	sparse                            # make sparse
	dkms                              # dkms.conf, make dkms-*
	build-essential debhelper dh-dkms lintian  # make deb (debian/), make deb-check
	udev openssl                      # deb-check: the udev rule, a DKMS signing key
	qemu-system-x86 busybox-static cpio xz-utils gzip  # VM runner, initramfs
	iproute2 procps python3           # used inside the guest by tests and tools
	ethtool                           # make check-e2e: L2 resizes its rings (queue reset)
	gnuplot-nox                       # benchmark plots
)
# --debug-kernel: also what building the debug kernel needs (make
# debug-kernel, make check-debug); plain `make check` stays lean.
# --newer-kernels: debootstrap, for the trixie/sid build chroots of
# tools/testing/kernels/build-newer.sh (make check-kernels).
# --fresh-host: only what make check-fresh needs on the host (debootstrap).
# --dpdk: DPDK's testpmd (dpdk-dev) and its virtio PMD, for make check-dpdk
# (about 200 packages: plain `make check` does without).
fresh_host=0
for arg in "$@"; do
	case $arg in
	--debug-kernel)
		pkgs+=(flex bison bc libelf-dev libssl-dev dwarves lcov) ;;
	--dpdk)
		pkgs+=(dpdk-dev librte-net-virtio23) ;;
	--newer-kernels)
		pkgs+=(debootstrap debian-archive-keyring) ;;
	--fresh-host)
		# make check-fresh's host side: it only makes the bare root;
		# the root installs everything else itself.
		pkgs=(debootstrap debian-archive-keyring git)
		fresh_host=1 ;;
	*)
		echo "setup.sh: unknown option '$arg'" >&2; exit 2 ;;
	esac
done

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || { echo "setup.sh: run as root to install: ${missing[*]}" >&2; exit 1; }
	echo "setup.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
else
	echo "setup.sh: all Debian packages present"
fi

[ "$fresh_host" = 0 ] || exit 0

# kselftest headers and checkpatch.pl (no Debian package ships them).
out=$repo/build/kselftest
if [ ! -f "$out/kselftest_harness.h" ] || [ ! -f "$out/kselftest.h" ] ||
   [ ! -f "$out/checkpatch.pl" ]; then
	src=$(ls -v /usr/src/linux-source-*.tar.xz | tail -n1)
	echo "setup.sh: extracting kselftest headers and checkpatch from $src"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	tar -xJf "$src" -C "$tmp" --wildcards \
		'*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/kselftest.h' \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
	mkdir -p "$out"
	find "$tmp" -type f -exec cp {} "$out/" \;
	chmod +x "$out/checkpatch.pl"
fi
echo "setup.sh: kselftest headers in $out"
