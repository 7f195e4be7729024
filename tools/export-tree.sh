#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# export-tree.sh DEST: copy this tree's source files into DEST (created):
# in a git checkout the tracked files and the untracked ones git does not
# ignore, that exist; without git everything but build output.  Never
# build/, *.o, *.ko.  Used by tools/dkms.sh (make dkms-install) and
# tools/deb.sh (make deb).
set -euo pipefail
dest=${1:?usage: export-tree.sh DEST}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p "$dest"
if git rev-parse --git-dir >/dev/null 2>&1; then
	git ls-files -z -c -o --exclude-standard |
		while IFS= read -r -d "" f; do if [ -f "$f" ]; then printf "%s\0" "$f"; fi; done |
		tar --null -T - -cf - | tar -xf - -C "$dest"
else
	tar --exclude=./build --exclude='*.o' --exclude='*.ko' \
		--exclude='*.cmd' -cf - . | tar -xf - -C "$dest"
fi
