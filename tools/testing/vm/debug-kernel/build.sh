#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build (once) a debug kernel for vhostx tests: linux-source-6.1's
# allnoconfig plus debug.config (KASAN, lockdep, kmemleak, UBSAN, ...),
# built out of tree and cached outside the repository, in
#   $VHOSTX_DEBUG_CACHE/<source-version>-<fragment-hash>/
#     src/        the extracted kernel source (kept for external modules)
#     obj/        the build tree (make O=obj): KDIR for vhostx, bzImage
#     modroot/lib/modules/<kver>/   modules_install output (vm-run --moddir)
#     build-time  seconds the last build took
#     ok          stamp: everything above is complete
# A rerun with the same source and fragment reuses the cache at once.
#
# usage: build.sh [--flavour debug|coverage] [--print-dir] [--jobs N] [--force]
#   --flavour    debug (default): debug.config as it is; coverage:
#                debug.config without its sanitizer block (gcov, KCOV and
#                failslab without KASAN, lockdep, kmemleak, UBSAN); also
#                VHOSTX_KERNEL_FLAVOUR
#   --print-dir  print the cache directory and exit (build nothing)
#   --jobs N     make -j N (default: number of CPUs)
#   --force      rebuild even if the cache is complete
# Environment: VHOSTX_DEBUG_CACHE (default /var/cache/vhostx/debug-kernel),
#   LINUX_SOURCE (default: newest /usr/src/linux-source-*.tar.xz).
# Needs: flex bison bc libelf-dev libssl-dev dwarves (tools/setup.sh
# --debug-kernel installs them).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
frag=$here/debug.config
prog=debug-kernel
say() { echo "$prog: $*" >&2; }
die() { say "$*"; exit 1; }

print_dir=0 force=0 jobs=$(nproc) flavour=${VHOSTX_KERNEL_FLAVOUR:-debug}
while [ $# -gt 0 ]; do
	case "$1" in
	--flavour) flavour=$2; shift 2 ;;
	--print-dir) print_dir=1; shift ;;
	--jobs) jobs=$2; shift 2 ;;
	--force) force=1; shift ;;
	-h|--help) sed -n '3,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option $1" ;;
	esac
done
# The fragment this flavour builds from (the cache key hashes it).
fragment() {
	case "$flavour" in
	debug) cat "$frag" ;;
	coverage) sed '/^# --- sanitizers/,/^# --- end of sanitizers/d' "$frag" ;;
	*) die "unknown flavour '$flavour' (debug or coverage)" ;;
	esac
}
fragment >/dev/null

src_tar=${LINUX_SOURCE:-$(ls -v /usr/src/linux-source-*.tar.xz 2>/dev/null | tail -n1 || true)}
[ -n "$src_tar" ] && [ -r "$src_tar" ] ||
	die "no /usr/src/linux-source-*.tar.xz: run 'tools/setup.sh --debug-kernel'"
pkg=$(basename "$src_tar" .tar.xz)
# The Debian package version pins the exact source; fall back to a hash.
srcver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true)
[ -n "$srcver" ] || srcver=$(stat -c %s-%Y "$src_tar")
srcver=${pkg#linux-source-}-$srcver
# The fragment and the recipe below decide the result: hash both.
fhash=$( { fragment; sed -n '/^# --- recipe/,$p' "$0"; } | sha1sum | cut -c1-10)
tag=
[ "$flavour" = debug ] || tag=$flavour-
cache=${VHOSTX_DEBUG_CACHE:-/var/cache/vhostx/debug-kernel}/$srcver-$tag$fhash

if [ "$print_dir" = 1 ]; then echo "$cache"; exit 0; fi
if [ "$force" = 0 ] && [ -f "$cache/ok" ]; then
	say "cached: $cache (built in $(cat "$cache/build-time" 2>/dev/null || echo ?)s)"
	echo "$cache"
	exit 0
fi

for t in flex bison bc pahole gcc make; do
	command -v "$t" >/dev/null || die "$t missing: run 'tools/setup.sh --debug-kernel'"
done
[ -f /usr/include/libelf.h ] || die "libelf-dev missing: run 'tools/setup.sh --debug-kernel'"
[ -f /usr/include/openssl/ssl.h ] || die "libssl-dev missing: run 'tools/setup.sh --debug-kernel'"

mkdir -p "$cache"
# One builder at a time per cache entry; others wait and then reuse it.
exec 9>"$cache/.lock"
flock 9
if [ "$force" = 0 ] && [ -f "$cache/ok" ]; then echo "$cache"; exit 0; fi
rm -f "$cache/ok"

# --- recipe (hashed into the cache key) ---------------------------------------
start=$(date +%s)
# A new fragment or recipe on the same source: start from the newest
# complete build of that source (kbuild rebuilds what the new .config
# changes, per option), instead of from nothing.
if [ ! -f "$cache/src/Makefile" ]; then
	seed=$(ls -td "$(dirname "$cache")/$srcver"-*/ok 2>/dev/null | head -n1 || true)
	if [ -n "$seed" ]; then
		seed=$(dirname "$seed")
		say "seeding from $seed"
		rm -rf "$cache"
		mkdir -p "$cache"
		cp -a "$seed/src" "$seed/obj" "$cache/"
	fi
fi
if [ ! -f "$cache/src/Makefile" ]; then
	say "extracting $src_tar"
	rm -rf "$cache/src" "$cache/src.tmp"
	mkdir -p "$cache/src.tmp"
	tar -xJf "$src_tar" -C "$cache/src.tmp" --strip-components=1
	mv "$cache/src.tmp" "$cache/src"
fi
src=$cache/src obj=$cache/obj
mkdir -p "$obj"
fragment >"$cache/debug.config"
say "configuring: allnoconfig + debug.config ($flavour flavour)"
(cd "$src" && scripts/kconfig/merge_config.sh -n -O "$obj" "$cache/debug.config" \
	>"$cache/merge.log" 2>&1) || { tail -n 30 "$cache/merge.log" >&2; die "merge_config failed"; }

# Every requested value must be in the final .config.
missing=()
while IFS= read -r l; do
	case "$l" in
	CONFIG_*=*)
		grep -qxF "$l" "$obj/.config" ||
			missing+=("$l (got: $(grep -E "^(# )?${l%%=*}[= ]" "$obj/.config" || echo absent))") ;;
	"# CONFIG_"*" is not set")
		o=${l#\# }; o=${o%% *}
		! grep -qE "^$o=" "$obj/.config" || missing+=("$l (got: $(grep -E "^$o=" "$obj/.config"))") ;;
	esac
done <"$cache/debug.config"
if [ ${#missing[@]} -gt 0 ]; then
	say "merge_config dropped ${#missing[@]} option(s) of debug.config:"
	for m in "${missing[@]}"; do say "  $m"; done
	exit 1
fi
say "all $(grep -cE '^(CONFIG_|# CONFIG_.* is not set)' "$cache/debug.config") options of debug.config are in $obj/.config"

say "building bzImage and modules with -j$jobs (nice 10) in $obj"
nice -n 10 make -C "$src" O="$obj" -j"$jobs" bzImage modules >"$cache/build.log" 2>&1 ||
	{ tail -n 40 "$cache/build.log" >&2; die "kernel build failed (log: $cache/build.log)"; }
rm -rf "$cache/modroot"
make -C "$src" O="$obj" INSTALL_MOD_PATH="$cache/modroot" modules_install \
	>>"$cache/build.log" 2>&1 || die "modules_install failed (log: $cache/build.log)"
kver=$(cat "$obj/include/config/kernel.release")
ln -sfn "modroot/lib/modules/$kver" "$cache/moddir"
ln -sfn obj/arch/x86/boot/bzImage "$cache/bzImage"
echo $(( $(date +%s) - start )) >"$cache/build-time"
touch "$cache/ok"
say "built $kver in $(cat "$cache/build-time")s: $cache"
echo "$cache"
