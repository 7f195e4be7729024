#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-fresh.sh (make check-fresh, what CI runs): the README's commands on
# a bare Debian 12 machine, and the selftest suite on three kernels.
#
#   1. debootstrap a new minimal bookworm root (minbase plus git, make and
#      ca-certificates only; the machine's own apt sources);
#   2. clone this checkout's HEAD into it (/root/vhostx);
#   3. in a chroot of it, as a new user would: `make demo`, then
#      `make check` (the suite on Debian 12's kernel);
#   4. then, still in that root, `make check-kernels` with
#      KERNELS_ARGS="--run trixie sid": the suite on trixie's and sid's
#      kernels;
#   5. one "N passed, M failed, K skipped" line per kernel, then the total.
#
# The root is new on every run, so a missing install step fails.  What
# may be reused between runs lives in $VHOSTX_CACHE (default
# /var/cache/vhostx) and is only ever downloaded or derived from Debian:
#   fresh/debootstrap/   debootstrap's .deb cache
#   fresh/apt/           the root's /var/cache/apt/archives (.deb files)
#   chroot/, kernels/    the trixie/sid build chroots and kernel images
#                        of make check-kernels (bound into the root)
#
# usage: check-fresh.sh [--steps "demo check kernels"] [--reuse-root]
#   --steps       run only these steps, in this order
#   --reuse-root  use the root of the last run as it is (no debootstrap;
#                 its clone checks out HEAD): for debugging this script
#                 only, it proves nothing about a bare machine
# Environment: VHOSTX_FRESH_DIR (default /var/tmp/vhostx-fresh; the root is
#   $VHOSTX_FRESH_DIR/root and stays there until the next run, for
#   inspection), VHOSTX_CACHE, VHOSTX_MIRROR (default: the machine's apt
#   archive, tools/testing/lib/apt-mirror.sh).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
prog=check-fresh
say() { echo "$prog: $*" >&2; }
die() { say "$*"; exit 2; }

steps="demo check kernels" reuse=0
while [ $# -gt 0 ]; do
	case "$1" in
	--steps) steps=$2; shift 2 ;;
	--reuse-root) reuse=1; shift ;;
	-h|--help) sed -n '4,33p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option $1" ;;
	esac
done
for s in $steps; do
	case "$s" in demo|check|kernels) ;; *) die "unknown step '$s'" ;; esac
done
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot)"

top=${VHOSTX_FRESH_DIR:-/var/tmp/vhostx-fresh}
cache=${VHOSTX_CACHE:-/var/cache/vhostx}
root=$top/root
log=$top/log
t_start=$SECONDS

# The host needs debootstrap only; everything else is installed inside
# the root by the project's own set-up step.
"$repo/tools/setup.sh" --fresh-host
mirror=$("$repo/tools/testing/lib/apt-mirror.sh") || exit 2

head=$(git -C "$repo" rev-parse HEAD)
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
	say "note: uncommitted changes are not tested (the root clones HEAD $head)"
fi

make_root() {
	# A previous root: nothing may still be mounted below it (every mount of
	# ours lives in a private namespace), then it goes.
	if [ -e "$root" ]; then
		if grep -qF " $root/" /proc/self/mountinfo; then
			die "something is mounted below $root; unmount it first"
		fi
		rm -rf --one-file-system "$root"
	fi
	mkdir -p "$log"
	rm -f "$log"/*

	# 1. the bare root
	t0=$SECONDS
	say "debootstrap bookworm (minbase + git make ca-certificates) from $mirror"
	debootstrap --variant=minbase --include=git,make,ca-certificates \
		--cache-dir="$cache/fresh/debootstrap" bookworm "$root" "$mirror" \
		>"$log/debootstrap.log" 2>&1 || {
		tail -n 20 "$log/debootstrap.log" >&2
		die "debootstrap failed (log: $log/debootstrap.log)"
	}
	# The machine's apt sources (its security and updates suites too).
	rm -f "$root/etc/apt/sources.list"
	cp -a /etc/apt/sources.list.d/. "$root/etc/apt/sources.list.d/" 2>/dev/null || true
	[ ! -f /etc/apt/sources.list ] || cp /etc/apt/sources.list "$root/etc/apt/"
	cp -L /etc/resolv.conf "$root/etc/resolv.conf"
	t_root=$((SECONDS - t0))
	say "root ready in ${t_root}s: $root"

	# 2. the checkout, as a clone of HEAD
	git clone -q --no-hardlinks "$repo" "$root/root/vhostx"
	git -C "$root/root/vhostx" checkout -q "$head"
}

mkdir -p "$top" "$cache/fresh/debootstrap" "$cache/fresh/apt/partial" \
	"$cache/chroot" "$cache/kernels"
t_root=0
if [ "$reuse" = 1 ]; then
	[ -d "$root/root/vhostx" ] || die "--reuse-root: no root in $root"
	say "reusing $root as it is (not a bare machine), at HEAD $head"
	git -C "$root/root/vhostx" fetch -q "$repo" "$head"
	git -C "$root/root/vhostx" checkout -q "$head"
else
	make_root
fi
mkdir -p "$log"

# Run a command in the root, as root, in /root/vhostx, in a private mount
# namespace with what a booted Debian machine has: /proc, /sys, /dev,
# /dev/pts, /dev/shm and a tmpfs /run.  Only .deb caches and the newer
# kernels' chroots come from the host.
in_root() {	# command
	unshare --mount --propagation private /bin/bash -euc '
		r=$1 c=$2; shift 2
		# The root a mount point of its own, as on a real machine
		# (unshare --propagation in the root wants that).
		mount --bind "$r" "$r"
		mount -t proc proc "$r/proc"
		mount --rbind /sys "$r/sys"
		mount --rbind /dev "$r/dev"
		mount -t tmpfs -o mode=1777 tmpfs "$r/dev/shm"
		mount -t tmpfs -o mode=755 tmpfs "$r/run"
		mkdir -p "$r/run/lock" "$r/var/cache/vhostx/chroot" \
			"$r/var/cache/vhostx/kernels"
		mount --bind "$c/fresh/apt" "$r/var/cache/apt/archives"
		mount --bind "$c/chroot" "$r/var/cache/vhostx/chroot"
		mount --bind "$c/kernels" "$r/var/cache/vhostx/kernels"
		exec chroot "$r" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			CI=true TERM=dumb /bin/bash -c "cd /root/vhostx && $*" </dev/null
	' in_root "$root" "$cache" "$@"
}

# The newer kernels' chroots and images need only the network and
# dpkg: the host prepares them while the root installs and tests itself.
prep_pid=
case " $steps " in *" kernels "*)
	say "preparing the trixie and sid chroots on the host meanwhile (log: $log/prepare.log)"
	VHOSTX_CACHE=$cache "$repo/tools/testing/kernels/build-newer.sh" \
		--prepare trixie sid >"$log/prepare.log" 2>&1 &
	prep_pid=$!
esac

declare -A took
fail=0
for s in $steps; do
	if [ "$s" = kernels ] && [ -n "$prep_pid" ]; then
		wait "$prep_pid" || { say "preparing failed:"; tail -n 20 "$log/prepare.log" >&2; }
		prep_pid=
	fi
	case "$s" in
	demo) cmd="make demo" ;;
	check) cmd="make check" ;;
	kernels) cmd="make check-kernels KERNELS_ARGS='--run trixie sid'" ;;
	esac
	say "step $s: $cmd"
	t0=$SECONDS
	rc=0
	in_root "$cmd" 2>&1 | tee "$log/$s.log" || rc=$?
	took[$s]=$((SECONDS - t0))
	say "step $s: exit $rc after ${took[$s]}s"
	if [ "$rc" != 0 ]; then
		fail=1
		break
	fi
done

[ -z "$prep_pid" ] || wait "$prep_pid" || true

# 5. the suite's count per kernel, then the total
tree=$root/root/vhostx
count() {	# console log -> "N M K" or nothing
	[ -f "$1" ] || return 0
	tr -d '\r' <"$1" | sed -n 's/^\([0-9]\+\) passed, \([0-9]\+\) failed, \([0-9]\+\) skipped$/\1 \2 \3/p' |
		tail -n 1
}
kver_of() {	# results dir -> the guest kernel's version, from its dmesg
	sed -n 's/.*Linux version \([^ ]*\).*/\1/p' "$1/dmesg.txt" 2>/dev/null | head -n 1
}
summary() {
	tp=0 tf=0 ts=0
	echo "$prog: timings: root ${t_root}s$(for s in $steps; do
		[ -z "${took[$s]:-}" ] || printf ', %s %ss' "$s" "${took[$s]}"; done), all $((SECONDS - t_start))s"
	for k in test:bookworm:check newer-trixie:trixie:kernels newer-sid:sid:kernels; do
		IFS=: read -r dir rel want <<<"$k"
		case " $steps " in *" $want "*) ;; *) continue ;; esac
		c=$(count "$tree/build/vm/$dir/console.log")
		if [ -z "$c" ]; then
			echo "$prog: $rel: no result"
			fail=1
			continue
		fi
		set -- $c
		echo "$prog: $rel $(kver_of "$tree/build/vm/$dir"): $1 passed, $2 failed, $3 skipped"
		tp=$((tp + $1)) tf=$((tf + $2)) ts=$((ts + $3))
		[ "$2" = 0 ] || fail=1
	done
	[ "$fail" = 0 ] && echo "$prog: PASS" || echo "$prog: FAIL (logs: $log)"
	echo "$tp passed, $tf failed, $ts skipped"
}
summary >"$log/summary"	# not in a pipe: it sets $fail
echo
cat "$log/summary"
exit "$fail"
