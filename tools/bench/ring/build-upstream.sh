#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the kernel's own ring benchmark from Debian's linux-source package
# into build/upstream/ (nothing of it is kept in this repository):
#
#   virtio_test         tools/virtio/virtio_test, unchanged: /dev/vhost-test
#   virtio_test-vhostx  the same program with its device path changed to
#                       /dev/vhostx-test (the only difference)
#   vhost_test.ko       drivers/vhost/test.c as an external module (Debian
#                       does not build CONFIG_VHOST_TEST), against KDIR; it
#                       needs the distribution's vhost.ko
#
# The source is /usr/src/linux-source-X.Y.tar.xz for KDIR's X.Y (vhost.h
# must match the vhost.ko the module links against), or UPSTREAM_SRC.
# Rebuilt only when the tarball or KDIR changes.  See
# Documentation/vhostx/performance.rst, "Upstream's virtio_test".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
top=$PWD
out=$top/build/upstream
prog=build-upstream

kdir=${KDIR:-$(d=/lib/modules/$(uname -r)/build; [ -d "$d" ] && echo "$d" ||
	ls -dv /usr/src/linux-headers-*-amd64 2>/dev/null | tail -n1)}
[ -d "$kdir" ] || { echo "$prog: no kernel headers (KDIR '$kdir'): run make deps" >&2; exit 1; }
rel=$(sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' "$kdir/include/generated/utsrelease.h")
xy=$(echo "$rel" | cut -d. -f1-2)
src=${UPSTREAM_SRC:-/usr/src/linux-source-$xy.tar.xz}
[ -r "$src" ] || { echo "$prog: $src missing (Debian package linux-source-$xy)" >&2; exit 1; }

stamp="$(readlink -f "$src") $(stat -c '%s %Y' "$src") $rel"
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ] &&
   [ -x "$out/virtio_test" ] && [ -x "$out/virtio_test-vhostx" ] &&
   [ -f "$out/vhost_test.ko" ]; then
	echo "$prog: up to date ($(basename "$src"), $rel)"
	exit 0
fi
rm -rf "$out"
mkdir -p "$out/src"
echo "$prog: extracting tools/virtio and drivers/vhost from $src"
# tools/virtio compiles drivers/virtio/virtio_ring.c against the kernel's
# include/ and its own stubs under tools/.
tar -xJf "$src" -C "$out/src" --strip-components=1 \
	--wildcards --no-wildcards-match-slash \
	'*/tools/virtio' '*/tools/include' '*/include' \
	'*/drivers/virtio/virtio_ring.c' '*/drivers/vhost'
v=$out/src/tools/virtio

# Some releases' tools/virtio lack stubs the matching virtio_ring.c uses
# (6.1: data_race(), added to tools/virtio in 6.2; some 6.12 stable
# releases: linux/compiler-context-analysis.h): supply them in the build
# directory only.
cc=${CC:-gcc}
if ! grep -q 'define data_race' "$v/linux/compiler.h"; then
	printf '#define data_race(expr) ({ expr; })\n' > "$out/shim.h"
	cc="$cc -include $out/shim.h"
fi
if grep -q 'compiler-context-analysis.h' "$out/src/include/linux/compiler_types.h" &&
   [ ! -f "$v/linux/compiler-context-analysis.h" ]; then
	cp "$out/src/include/linux/compiler-context-analysis.h" "$v/linux/"
fi

# The device path, changed in a copy of the program; exactly one use.
n=$(grep -c '"/dev/vhost-test"' "$v/virtio_test.c")
[ "$n" = 1 ] || { echo "$prog: expected one \"/dev/vhost-test\" in virtio_test.c, found $n" >&2; exit 1; }
sed 's|"/dev/vhost-test"|"/dev/vhostx-test"|' "$v/virtio_test.c" > "$v/virtio_test_vhostx.c"

echo "$prog: building virtio_test"
# Upstream's own rules and flags, for both programs.
make -C "$v" CC="$cc" virtio_test virtio_test_vhostx.o >"$out/build.log" 2>&1 ||
	{ cat "$out/build.log" >&2; echo "$prog: virtio_test did not build" >&2; exit 1; }
(cd "$v" && $cc -pthread -o virtio_test_vhostx virtio_test_vhostx.o virtio_ring.o)
cp "$v/virtio_test" "$out/virtio_test"
cp "$v/virtio_test_vhostx" "$out/virtio_test-vhostx"

echo "$prog: building vhost_test.ko against $rel"
m=$out/vhost_test
mkdir -p "$m"
cp "$out/src/drivers/vhost/test.c" "$out/src/drivers/vhost/test.h" \
	"$out/src/drivers/vhost/vhost.h" "$m/"
printf 'obj-m := vhost_test.o\nvhost_test-y := test.o\n' > "$m/Kbuild"
make -C "$kdir" M="$m" modules >>"$out/build.log" 2>&1 ||
	{ cat "$out/build.log" >&2; echo "$prog: vhost_test.ko did not build" >&2; exit 1; }
if grep -q 'WARNING: .*undefined' "$out/build.log"; then
	grep 'WARNING' "$out/build.log" >&2
	echo "$prog: vhost_test.ko has unresolved symbols" >&2
	exit 1
fi
cp "$m/vhost_test.ko" "$out/vhost_test.ko"
echo "$stamp" > "$out/stamp"
echo "$prog: $out/{virtio_test,virtio_test-vhostx,vhost_test.ko}"
