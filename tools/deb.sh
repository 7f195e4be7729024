#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make deb: the vhostx-dkms Debian package from this tree, with Debian's
# own tools (dpkg-buildpackage, debhelper, dh-dkms; make deps installs
# them), then lintian, which must report no error.
#
# The tree's source files (tools/export-tree.sh: what git tracks or does
# not ignore, never build output) are copied to build/deb/vhostx-<ver>/;
# vhostx_<ver>.orig.tar.xz is that copy without debian/, and the full
# build (source and binary) runs there, so nothing is written into the
# tree or next to it.  Results in build/deb/ (DEB_OUT=DIR elsewhere):
# vhostx-dkms_<ver>-<rev>_all.deb, the source package (.dsc,
# .orig.tar.xz, .debian.tar.xz), .changes, .buildinfo, build.log and
# lintian.log.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
prog=deb
die() { echo "$prog: $*" >&2; exit 1; }

for t in dpkg-buildpackage dh dh_dkms lintian; do
	command -v "$t" >/dev/null ||
		die "$t is missing: run 'make deps' (tools/setup.sh) as root"
done
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)
[ -n "$ver" ] || die "no PACKAGE_VERSION in dkms.conf"
debver=$(dpkg-parsechangelog -l debian/changelog -S Version)
[ "${debver%-*}" = "$ver" ] ||
	die "debian/changelog has $debver, dkms.conf $ver: the upstream versions must match"

out=${DEB_OUT:-$repo/build/deb}
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$out/vhostx-$ver
tools/export-tree.sh "$stage"

# The orig tarball, reproducible: names sorted, owner root, every mtime
# the last commit's (or now, outside git).
t=$(git log -1 --format=%ct 2>/dev/null || date +%s)
tar -C "$out" --sort=name --mtime="@$t" --owner=0 --group=0 --numeric-owner \
	--exclude="vhostx-$ver/debian" -cJf "$out/vhostx_$ver.orig.tar.xz" "vhostx-$ver"

echo "$prog: dpkg-buildpackage in $stage (log: $out/build.log)"
if ! (cd "$stage" && dpkg-buildpackage -us -uc) >"$out/build.log" 2>&1; then
	tail -n 30 "$out/build.log" >&2
	die "dpkg-buildpackage failed (log: $out/build.log)"
fi
changes=$out/vhostx_${debver}_amd64.changes
[ -f "$changes" ] || changes=$(ls "$out"/vhostx_"$debver"_*.changes | head -n 1)
deb=$out/vhostx-dkms_${debver}_all.deb
[ -f "$deb" ] || die "no $deb after the build"

# Errors fail; warnings and info are shown (Documentation/vhostx/testing.rst
# says which remain and why).
echo "$prog: lintian $(basename "$changes")"
rc=0
lintian -I --fail-on error "$changes" >"$out/lintian.log" 2>&1 || rc=$?
sed 's/^/  /' "$out/lintian.log"
[ "$rc" = 0 ] || die "lintian reports errors (exit $rc)"
echo "$prog: built $deb"
