#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make deb-check (a step of make check): the vhostx-dkms package as a user
# gets it, on this machine, which it leaves as it found it.
#   1. make deb (tools/deb.sh): build the package, lintian without error;
#   2. with a DKMS signing key in /var/lib/dkms (a throw-away one made for
#      the check when there is none, removed afterwards), `apt-get install
#      ./vhostx-dkms_<ver>_all.deb`: the postinst has DKMS build and
#      install the modules for every kernel with headers;
#   3. the package's autopkgtests (debian/tests/control), run here rather
#      than by autopkgtest's runners: `dkms` on this machine (what
#      autopkgtest-pkg-dkms checks, plus modinfo fields and the signer),
#      `load` (isolation-machine) in the VM booting the kernel the
#      modules were built for: modprobe from updates/dkms, the udev rule,
#      nobody in group kvm runs the demo's traffic, outside it EACCES;
#   4. with VX_DEB_OTHER_HEADERS=linux-headers-<abi>-amd64 (not in make
#      check: a download), installing that kernel's headers afterwards
#      builds the modules for it too;
#   5. `apt-get remove`: the modules are gone from every kernel and from
#      DKMS, the source too, the conffile stays; `apt-get purge`: nothing
#      is left.
# The package, the throw-away key and any extra headers are purged also
# when a step fails.  It refuses to run while vhostx is installed (the
# package, or make dkms-install); one DKMS check at a time (the lock of
# make dkms-check).  Logs in build/deb/check/.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
prog=deb-check
say() { echo "$prog: $*"; }
die() { echo "$prog: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (apt-get install, dkms)"

exec 9>/run/lock/vhostx-dkms-check.lock
flock 9

pkg=vhostx-dkms
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)
debver=$(dpkg-parsechangelog -l debian/changelog -S Version)
out=$repo/build/deb
logs=$out/check
other=${VX_DEB_OTHER_HEADERS:-}
export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -y -q -o DPkg::Lock::Timeout=600)

state() { dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null | tr -d ' ' || true; }
case "$(state)" in
''|un|pn) ;;
*) die "$pkg is on this machine ($(state)): 'apt-get purge $pkg' first" ;;
esac
if [ -n "$(dkms status -m vhostx 2>/dev/null)" ] || [ -e "/usr/src/vhostx-$ver" ]; then
	dkms status -m vhostx >&2 || true
	die "vhostx is installed with DKMS (make dkms-install?): 'make dkms-remove' first"
fi

t0=$SECONDS
lap() { say "$1 ($((SECONDS - t0)) s so far)"; }

# 1. the package
tools/deb.sh
deb=$out/${pkg}_${debver}_all.deb
rm -rf "$logs"
mkdir -p "$logs"
lap "package built"

# 2. a signing key, as Secure Boot machines have (dkms would make one)
key=/var/lib/dkms/mok.key pub=/var/lib/dkms/mok.pub own_key=0
installed_other=0 other_pkgs= other_dir_existed=0
cleanup() {
	rc=$?
	trap - EXIT
	if [ -n "$(state)" ] && [ "$(state)" != un ]; then
		"${apt[@]}" purge "$pkg" >>"$logs/cleanup.log" 2>&1 || rc=1
	fi
	if [ "$installed_other" = 1 ]; then
		# shellcheck disable=SC2086 # a list of package names
		[ -z "$other_pkgs" ] || "${apt[@]}" purge $other_pkgs >>"$logs/cleanup.log" 2>&1 || rc=1
		drop_depmod_leftovers || rc=1
	fi
	if [ -n "$(dkms status -m vhostx 2>/dev/null)" ]; then
		dkms remove -m vhostx -v "$ver" --all >>"$logs/cleanup.log" 2>&1 || rc=1
	fi
	rm -rf /var/lib/dkms/vhostx
	[ "$own_key" = 0 ] || rm -f "$key" "$pub"
	[ "$rc" = 0 ] || say "FAILED (logs: $logs)"
	exit "$rc"
}
# depmod, run by dkms for a kernel that has headers but no image, leaves
# its index files (modules.*, no package's) in /lib/modules/<kernel>
# after the headers are purged: the directory was not there before.
drop_depmod_leftovers() {
	local d=/lib/modules/${other#linux-headers-}
	[ "$other_dir_existed" = 0 ] && [ -d "$d" ] || return 0
	if [ -n "$(find "$d" ! -type d ! -name 'modules.*')" ]; then
		say "$d holds more than depmod's files: kept"
		find "$d" ! -type d ! -name 'modules.*' >&2
		return 1
	fi
	rm -rf "$d"
}
trap cleanup EXIT
if [ ! -e "$key" ] && [ ! -e "$pub" ]; then
	mkdir -p /var/lib/dkms
	openssl req -new -x509 -nodes -days 2 -subj "/CN=vhostx deb-check signing key" \
		-newkey rsa:2048 -keyout "$key" -outform DER -out "$pub" 2>"$logs/openssl.log"
	own_key=1
	say "no DKMS signing key here: made a throw-away one ($key, removed afterwards)"
else
	say "signing with this machine's DKMS key ($pub; kept)"
fi

# 3. install, as the README says
say "apt-get install $deb (log: $logs/install.log)"
if ! "${apt[@]}" install "$deb" >"$logs/install.log" 2>&1; then
	cat "$logs/install.log" >&2
	die "installing the package failed"
fi
sed -n '/^Building for\|^Building initial\|^vhostx-dkms:\|^Module build\|^Signing\|Installing to\|^It is likely/p' \
	"$logs/install.log" | sed 's/^/  /'
lap "package installed"

# 4. the package's tests, as debian/tests/control lists them
kernel_for_vm() {
	local k
	for k in $(ls -v /boot/vmlinuz-* 2>/dev/null | tac); do
		k=${k#/boot/vmlinuz-}
		if ls "/lib/modules/$k/updates/dkms/vhostx_net.ko"* >/dev/null 2>&1; then
			echo "$k"
			return
		fi
	done
}
# "name|restrictions" per test
tests=$(awk '
	/^#/ { next }
	/^[[:space:]]*$/ { if (t != "") print t "|" r; t = ""; r = ""; next }
	/^Tests:/ { sub(/^Tests:[[:space:]]*/, ""); t = $0; next }
	/^Restrictions:/ { sub(/^Restrictions:[[:space:]]*/, ""); r = $0; next }
	END { if (t != "") print t "|" r }' debian/tests/control)
[ -n "$tests" ] || die "no tests in debian/tests/control"
while IFS='|' read -r names restr; do
	for t in $names; do
		art=$logs/$t
		mkdir -p "$art"
		case ",$restr," in
		*isolation-machine*)
			kver=$(kernel_for_vm)
			[ -n "$kver" ] || die "no /boot/vmlinuz-* with the package's modules to boot"
			say "test $t: in the VM, kernel $kver"
			# The demo built here: compiling it in the emulated
			# guest would take longer than the test itself.
			cc -O2 -Wall -D_GNU_SOURCE -Itools/lib/vguest \
				-o "$out/net-demo" tools/demo/net-demo.c tools/lib/vguest/*.c
			tools/testing/vm/vm-run --kernel "/boot/vmlinuz-$kver" --timeout 900 \
				--results "$art" --env AUTOPKGTEST_ARTIFACTS="$art" \
				--env VX_NET_DEMO="$out/net-demo" \
				-- bash -c 'export AUTOPKGTEST_TMP=$(mktemp -d) && exec debian/tests/'"$t" ||
				die "test $t failed (console: $art/console.log)"
			;;
		*)
			say "test $t: on this machine"
			tmp=$(mktemp -d)
			AUTOPKGTEST_TMP=$tmp AUTOPKGTEST_ARTIFACTS=$art "debian/tests/$t" ||
				{ rm -rf "$tmp"; die "test $t failed"; }
			rm -rf "$tmp"
			;;
		esac
		lap "test $t passed"
	done
done <<<"$tests"

# 5. a kernel's headers installed afterwards (opt-in)
if [ -n "$other" ]; then
	okver=${other#linux-headers-}
	[ ! -e "/lib/modules/$okver/build" ] || die "$other is already installed"
	[ ! -e "/lib/modules/$okver" ] || other_dir_existed=1
	say "apt-get install $other (log: $logs/other-headers.log)"
	pkgs() { dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1 != "un" { print $2 }' | sort; }
	before=$(pkgs)
	installed_other=1
	rc=0
	"${apt[@]}" install --no-install-recommends "$other" >"$logs/other-headers.log" 2>&1 || rc=$?
	# What it brought along is purged again at the end, nothing else.
	other_pkgs=$(comm -13 <(echo "$before") <(pkgs) | tr '\n' ' ')
	[ "$rc" = 0 ] || { tail -n 30 "$logs/other-headers.log" >&2; die "installing $other failed"; }
	say "  installed: $other_pkgs"
	st=$(dkms status -m vhostx -v "$ver" -k "$okver")
	say "  $st"
	case "$st" in *": installed"*) ;; *) die "not built for $okver after installing its headers" ;; esac
	# The autopkgtest again: now it sees both kernels.
	tmp=$(mktemp -d)
	AUTOPKGTEST_TMP=$tmp AUTOPKGTEST_ARTIFACTS=$logs/dkms debian/tests/dkms ||
		{ rm -rf "$tmp"; die "test dkms failed with $other"; }
	rm -rf "$tmp"
	lap "built for $okver when its headers came"
fi

# 6. remove, then purge
left() {	# what vhostx left in the module trees
	find /lib/modules -path '*/updates/dkms/vhostx*.ko*' 2>/dev/null
}
conf=/etc/modules-load.d/vhostx.conf
rules=/lib/udev/rules.d/60-vhostx-dkms.rules
[ -f "$conf" ] || die "$conf was not installed"
! grep -Eqv '^[[:space:]]*(#|$)' "$conf" || die "$conf loads something: $(grep -Ev '^[[:space:]]*(#|$)' "$conf")"
"${apt[@]}" remove "$pkg" >"$logs/remove.log" 2>&1 || { cat "$logs/remove.log" >&2; die "apt-get remove failed"; }
[ "$(state)" = rc ] || die "after remove the package is '$(state)', want rc"
[ -z "$(left)" ] || die "after remove, modules are left: $(left)"
[ -z "$(dkms status -m vhostx)" ] || die "after remove, dkms still has: $(dkms status -m vhostx)"
[ ! -e "/usr/src/vhostx-$ver" ] || die "after remove, /usr/src/vhostx-$ver is left"
[ ! -e "$rules" ] || die "after remove, $rules is left"
[ -f "$conf" ] || die "remove took the conffile $conf (only purge may)"
for k in $(ls /lib/modules); do
	! modprobe -n -q -S "$k" vhostx_net 2>/dev/null || die "modprobe still finds vhostx_net for $k"
done
say "removed: no module in any kernel, nothing in DKMS, $conf kept"
"${apt[@]}" purge "$pkg" >"$logs/purge.log" 2>&1 || { cat "$logs/purge.log" >&2; die "apt-get purge failed"; }
case "$(state)" in ''|un|pn) ;; *) die "after purge the package is '$(state)'" ;; esac
[ ! -e "$conf" ] || die "after purge, $conf is left"
[ ! -e /var/lib/dkms/vhostx ] || die "after purge, /var/lib/dkms/vhostx is left"
say "purged: nothing left"
if [ "$installed_other" = 1 ]; then
	# shellcheck disable=SC2086 # a list of package names
	"${apt[@]}" purge $other_pkgs >"$logs/other-purge.log" 2>&1 ||
		die "purging $other_pkgs failed"
	installed_other=0
	drop_depmod_leftovers || die "/lib/modules/$okver is left after purging its headers"
fi
lap "removed and purged"
say "passed in $((SECONDS - t0)) s"
