#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-newer.sh (make check-kernels): build vhostx.ko, vhostx_net.ko and
# vhostx_test.ko against newer Debian kernels than the host's.
#
# usage: build-newer.sh [--update] [--run | --prepare] [--e2e] [--bench]
#                        [release...]
#   release    trixie, sid, ... (default: trixie sid)
#   --update   apt-get update/upgrade each cached chroot first (a new sid
#              kernel, say); without it a cached chroot is used as is
#   --run      also boot each release's kernel in QEMU (vm-run), load the
#              modules built for it and run the selftests
#   --prepare  only create the chroots and fetch the kernels, every
#              release at once, and build nothing (needs only debootstrap
#              on this machine: make check-fresh runs it on the host
#              while the bare root installs itself)
#   --e2e      also run the end-to-end test (tools/testing/e2e/run.sh)
#              on each release's kernel, with that release's QEMU
#              (qemu-system-x86 installed in its chroot) as the VMM in
#              the test VM and its kernel as L2; in order on
#              (E2E_INORDER=1) for a 7.0 or later kernel, which with QEMU
#              9.1 or later negotiates VIRTIO_F_IN_ORDER; log in
#              build/e2e-<release>.log; E2E_* variables pass through
#   --bench    also run make bench's guest (tools/bench/run.sh) on each
#              release's kernel: that kernel's vhost_net against the
#              modules built for it, results in build/bench-<release>/;
#              BENCH_* variables pass through (make bench BENCH_KERNEL=sid)
#   VX_SELFTESTS  (environment) with --run, only these test programs
#              (names in build/selftests, space-separated), as
#              VX_DEBUG_SELFTESTS does for make check-debug
#
# A release's headers want its own gcc and glibc, so each build runs in a
# debootstrapped chroot of that release, cached in
# /var/cache/vhostx/chroot/<release> with gcc, make and the release's
# linux-headers-amd64 (and so linux-kbuild) installed by apt inside it.
# The tree's Kbuild, Kconfig, drivers/ and include/ are copied into
# <chroot>/build/vhostx and built with the kbuild variables of the top-level
# Makefile (-Werror comes from Kbuild).  Prints the kernel version and
# PASS/FAIL per release; exits non-zero if any release failed.
# See Documentation/vhostx/testing.rst.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
prog=build-newer
cache=${VHOSTX_CACHE:-/var/cache/vhostx}

say() { echo "$prog: $*" >&2; }
die() { say "$*"; exit 2; }

update=0 run=0 prepare=0 e2e=0 bench=0 releases=()
while [ $# -gt 0 ]; do
	case "$1" in
	--update) update=1 ;;
	--run) run=1 ;;
	--prepare) prepare=1 ;;
	--e2e) e2e=1 ;;
	--bench) bench=1 ;;
	-h|--help) sed -n '4,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option $1" ;;
	*) releases+=("$1") ;;
	esac
	shift
done
[ ${#releases[@]} -gt 0 ] || releases=(trixie sid)
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot)"
# The archive this machine's apt uses (VHOSTX_MIRROR overrides).
mirror=$("$repo/tools/testing/lib/apt-mirror.sh") || exit 2

if [ "$prepare" = 1 ]; then
	"$repo/tools/setup.sh" --fresh-host >/dev/null
else
	"$repo/tools/setup.sh" --newer-kernels >/dev/null
fi

# One run at a time per cache: two runs would debootstrap, upgrade and
# build in the same chroots at once and break each other.  A second run
# waits for the first (VHOSTX_CACHE gives it a cache of its own instead).
mkdir -p "$cache"
exec 9>"$cache/.build-newer.lock"
if ! flock -n 9; then
	say "waiting for another run using $cache"
	flock 9
fi

# The kbuild variables `make all` passes, from the Makefile itself.
kbuild_vars=$(sed -n 's/^KBUILD_VARS *:= *//p' "$repo/Makefile")
[ -n "$kbuild_vars" ] || die "no KBUILD_VARS in $repo/Makefile"

# Run a shell command in the chroot, with /proc mounted in a private
# mount namespace (gone when the command ends: nothing to clean up).
in_chroot() {	# dir command
	unshare --mount --propagation private \
		chroot "$1" /bin/sh -c "mount -t proc proc /proc && $2"
}

# Create (once) or refresh (--update) the chroot of a release.  sid's
# Release file carries a Valid-Until that a lagging mirror lets lapse:
# apt in the chroot does not enforce it (debootstrap does not either).
prepare_chroot() {	# release dir
	local rel=$1 dir=$2 pkgs="gcc make libc6-dev linux-headers-amd64"
	local apt="apt-get -q -y -o Dpkg::Use-Pty=0 --no-install-recommends"

	apt="export DEBIAN_FRONTEND=noninteractive; nice $apt"
	apt+=" -o Acquire::Check-Valid-Until=false"
	if [ ! -f "$dir/.vhostx-debootstrap" ]; then
		say "$rel: creating chroot in $dir (debootstrap)"
		rm -rf "$dir" "$dir.new"
		mkdir -p "$(dirname "$dir")"
		nice debootstrap --variant=minbase "$rel" "$dir.new" "$mirror" \
			>"$dir.debootstrap.log" 2>&1 || {
			tail -n 20 "$dir.debootstrap.log" >&2
			die "$rel: debootstrap failed (log: $dir.debootstrap.log)"
		}
		touch "$dir.new/.vhostx-debootstrap"
		mv "$dir.new" "$dir"
	fi
	if [ ! -f "$dir/.vhostx-ready" ]; then
		say "$rel: installing $pkgs in the chroot"
		in_chroot "$dir" "$apt update && $apt install $pkgs </dev/null" ||
			die "$rel: apt-get install $pkgs failed in the chroot"
		touch "$dir/.vhostx-ready"
	elif [ "$update" = 1 ]; then
		say "$rel: updating chroot $dir"
		in_chroot "$dir" "$apt update && $apt dist-upgrade </dev/null &&
			$apt install $pkgs </dev/null && $apt autoremove </dev/null" ||
			die "$rel: apt-get upgrade failed in the chroot"
	fi
}

# The release's QEMU in its chroot (once), for --e2e.
prepare_qemu() {	# release dir
	local apt="apt-get -q -y -o Dpkg::Use-Pty=0 --no-install-recommends"

	[ ! -f "$2/.vhostx-qemu" ] || [ "$update" = 1 ] || return 0
	say "$1: installing qemu-system-x86 in the chroot"
	apt="nice $apt -o Acquire::Check-Valid-Until=false"
	in_chroot "$2" "export DEBIAN_FRONTEND=noninteractive &&
		$apt update && $apt install qemu-system-x86 </dev/null" \
		>"$2.qemu.log" 2>&1 || { tail -n 20 "$2.qemu.log" >&2; return 1; }
	touch "$2/.vhostx-qemu"
}

# The end-to-end test on a release's kernel, with its QEMU; in order on
# where the kernel (as L2's driver) negotiates it, 7.0 and later.
run_e2e() {	# release dir kver
	local rel=$1 dir=$2 kver=$3 mods vmlinuz inorder=1

	case "$kver" in [0-6].*) inorder=0 ;; esac
	prepare_qemu "$rel" "$dir" || { say "$rel: cannot install qemu-system-x86"; return 1; }
	boot_files "$rel" "$dir" "$kver" || return 1
	E2E_KERNEL=$vmlinuz E2E_MODDIR=$mods E2E_MODULES=$dir/build/vhostx \
		E2E_QEMU_ROOT=$dir E2E_INORDER=${E2E_INORDER:-$inorder} \
		E2E_OUT=build/e2e-$rel "$repo/tools/testing/e2e/run.sh"
}

# make bench's guest on a release's kernel, with the modules built for it.
run_bench() {	# release dir kver
	local rel=$1 dir=$2 kver=$3 mods vmlinuz

	boot_files "$rel" "$dir" "$kver" || return 1
	BENCH_VM_KERNEL=$vmlinuz BENCH_VM_MODDIR=$mods \
		BENCH_VX_MODULES=$dir/build/vhostx BENCH_OUT=build/bench-$rel \
		"$repo/tools/bench/run.sh"
}

# The newest headers tree in a chroot, as a path inside it.
headers_of() {	# dir
	(cd "$1" && ls -dv usr/src/linux-headers-*-amd64 2>/dev/null | tail -n1 |
		sed 's|^|/|')
}

# Build the three modules in a chroot; 0 on success.
build_in() {	# release dir kdir
	local rel=$1 dir=$2 kdir=$3 src=$2/build/vhostx

	rm -rf "$src"
	mkdir -p "$src"
	# The sources only: none of the host's build output.
	tar -C "$repo" -c --exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude='.*.cmd' --exclude='*.a' \
		--exclude=modules.order --exclude=Module.symvers \
		--exclude='.tmp_*' --exclude='.*.d' Kbuild Kconfig dkms.conf drivers include | tar -C "$src" -x
	in_chroot "$dir" "nice make -C $kdir M=/build/vhostx $kbuild_vars modules" \
		>"$src.log" 2>&1
}

# Download a release's kernel (its linux-image .deb) into the cache and
# extract it there.
fetch_image() {	# release dir kver
	local rel=$1 dir=$2 kver=$3 kdir=$cache/kernels/$3 deb

	[ ! -f "$kdir/.vhostx-fetched" ] && [ ! -f "$kdir/.vhostx-ready" ] || return 0
	say "$rel: fetching linux-image-$kver"
	rm -rf "$kdir"
	mkdir -p "$kdir"
	# sid (7.x) splits linux-image into linux-binary (vmlinuz),
	# linux-modules and linux-base (modules.builtin, ...): take
	# those too where they exist.
	rm -rf "$dir/tmp/vhostx-image"
	mkdir -p "$dir/tmp/vhostx-image"
	in_chroot "$dir" "cd /tmp/vhostx-image &&
		apt-get -q download linux-image-$kver &&
		for p in linux-base-$kver linux-binary-$kver linux-modules-$kver; do
			! apt-cache show \$p >/dev/null 2>&1 ||
			apt-get -q download \$p || exit 1
		done" ||
		{ say "$rel: cannot download linux-image-$kver"; return 1; }
	for deb in "$dir"/tmp/vhostx-image/*.deb; do
		dpkg-deb -x "$deb" "$kdir"
	done
	rm -rf "$dir/tmp/vhostx-image"
	touch "$kdir/.vhostx-fetched"
}

# A release's kernel ready to boot: fetched, depmod run; sets mods (its
# lib/modules/<version>) and vmlinuz.
boot_files() {	# release dir kver
	local rel=$1 dir=$2 kver=$3 kdir=$cache/kernels/$3

	fetch_image "$rel" "$dir" "$kver" || return 1
	mods=$kdir/lib/modules/$kver
	[ -d "$mods" ] || mods=$kdir/usr/lib/modules/$kver
	if [ ! -f "$kdir/.vhostx-ready" ]; then
		depmod -b "$(dirname "$(dirname "$(dirname "$mods")")")" "$kver" ||
			{ say "$rel: depmod failed"; return 1; }
		touch "$kdir/.vhostx-ready"
	fi
	vmlinuz=$kdir/boot/vmlinuz-$kver
	[ -f "$vmlinuz" ] || vmlinuz=$mods/vmlinuz	# linux-binary (7.x)
}

# The e2e run of a release, its output in build/e2e-<release>.log (the
# last lines also on stderr if it fails).
run_e2e_logged() {	# release dir kver
	local log=$repo/build/e2e-$1.log rc=0
	mkdir -p "$repo/build"
	run_e2e "$@" >"$log" 2>&1 || rc=$?
	[ "$rc" = 0 ] || tail -n 30 "$log" >&2 || true
	return "$rc"
}

# What each step adds to a release's result line, after PASS or FAIL.
step_detail() {	# step release
	case $1 in
	selftests)
		tr -d '\r' <"$repo/build/vm/newer-$2/console.log" |
			grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n1 || true ;;
	e2e)	grep -E '^e2e: (in order|QEMU):' "$repo/build/e2e-$2.log" |
			tr '\n' ' ' || true ;;
	bench)	echo "build/bench-$2/table.rst" ;;
	esac
}

# Run one step for the release in $rel and add ", STEP PASS (detail)" or
# ", STEP FAIL (why; detail)" to its result line ($res); a failure fails
# the whole run ($fail).
step() {	# name why-if-failed command...
	local name=$1 why=$2 detail
	shift 2
	if "$@"; then
		res+=", $name PASS"
		why=
	else
		res+=", $name FAIL"
		fail=1
	fi
	detail=$(step_detail "$name" "$rel" 2>/dev/null)
	[ -z "$why$detail" ] || res+=" (${why}${why:+${detail:+; }}${detail})"
}

# Boot a release's kernel and run the selftests on the modules built for
# it.
run_in_vm() {	# release dir kver
	local rel=$1 dir=$2 kver=$3 mods vmlinuz

	boot_files "$rel" "$dir" "$kver" || return 1
	# The selftests are user space, built on the host as for make vm-test.
	make -s -C "$repo" selftests >/dev/null || { say "make selftests failed"; return 1; }
	mkdir -p "$repo/build/vm/newer-$rel"
	"$repo/tools/testing/vm/vm-run" --kernel "$vmlinuz" \
		--moddir "$mods" --timeout 2400 --results "$repo/build/vm/newer-$rel" \
		--env "VX_MODULES=$dir/build/vhostx" \
		--env "VX_SELFTESTS=${VX_SELFTESTS:-}" -- \
		sh -c 'tools/testing/vm/load-modules.sh || exit
			[ -n "$VX_SELFTESTS" ] || exec tools/testing/vm/run-selftests.sh
			mkdir -p /tmp/sel && for n in $VX_SELFTESTS; do
				cp "build/selftests/$n" /tmp/sel/ || exit; done &&
			tools/testing/vm/run-selftests.sh /tmp/sel'
}

for rel in "${releases[@]}"; do
	case "$rel" in *[!a-z0-9-]*|'') die "bad release name '$rel'" ;; esac
done

# The kernel a chroot's headers are for.
kver_of() {	# dir
	local kdir

	kdir=$(headers_of "$1")
	[ -n "$kdir" ] || return 1
	sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' "$1$kdir/include/generated/utsrelease.h"
}

if [ "$prepare" = 1 ]; then
	pids=()
	for rel in "${releases[@]}"; do
		dir=$cache/chroot/$rel
		( prepare_chroot "$rel" "$dir" &&
		  kver=$(kver_of "$dir") &&
		  fetch_image "$rel" "$dir" "$kver" &&
		  say "$rel: prepared ($kver)" ) &
		pids+=($!)
	done
	fail=0
	for p in "${pids[@]}"; do wait "$p" || fail=1; done
	exit "$fail"
fi

fail=0
results=()
for rel in "${releases[@]}"; do
	dir=$cache/chroot/$rel
	t0=$SECONDS
	prepare_chroot "$rel" "$dir"
	t1=$SECONDS
	kdir=$(headers_of "$dir")
	if [ -z "$kdir" ]; then
		say "$rel: no linux-headers in the chroot"
		results+=("$rel: FAIL (no headers)")
		fail=1
		continue
	fi
	kver=$(sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' \
		"$dir$kdir/include/generated/utsrelease.h")
	say "$rel: building against $kver ($kdir)"
	built=0
	if build_in "$rel" "$dir" "$kdir"; then
		res="$rel: $kver: build PASS"
		built=1
	else
		tail -n 40 "$dir/build/vhostx.log" >&2
		res="$rel: $kver: build FAIL (log: $dir/build/vhostx.log)"
		fail=1
	fi
	t2=$SECONDS
	say "$rel: chroot $((t1 - t0))s, build $((t2 - t1))s"
	if [ "$built" = 1 ]; then
		[ "$run" = 0 ] ||
			step selftests "" run_in_vm "$rel" "$dir" "$kver"
		[ "$e2e" = 0 ] ||
			step e2e "log: build/e2e-$rel.log" run_e2e_logged "$rel" "$dir" "$kver"
		[ "$bench" = 0 ] ||
			step bench "" run_bench "$rel" "$dir" "$kver"
	fi
	results+=("$res")
done

for r in "${results[@]}"; do echo "$prog: $r"; done
exit "$fail"
