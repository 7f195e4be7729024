#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the Debian archive this machine's apt uses (the URI that serves
# its release itself, not -security or -updates), read from
# /etc/apt/sources.list.d/*.sources (deb822) and /etc/apt/sources.list,
# so that debootstrap goes where apt goes: a local mirror or proxy keeps
# working.  VHOSTX_MIRROR overrides.  Exits 1, saying so, if none is found.
set -euo pipefail

if [ -n "${VHOSTX_MIRROR:-}" ]; then
	echo "$VHOSTX_MIRROR"
	exit 0
fi
etc=${APT_ETC:-/etc/apt}

# deb822: the first "Types: deb" stanza with a suite that has no "-"
# (bookworm, not bookworm-security).
for f in "$etc"/sources.list.d/*.sources; do
	[ -r "$f" ] || continue
	uri=$(awk '
		function flush() {
			if (!done && deb && uris != "" && plain) { print uris; done = 1; exit }
			deb = 0; uris = ""; plain = 0
		}
		/^[ \t]*$/ { flush(); next }
		/^#/ { next }
		tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
		tolower($1) == "uris:" { uris = $2 }
		tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i !~ /-/) plain = 1 }
		END { flush() }' "$f")
	if [ -n "$uri" ]; then
		echo "${uri%/}"
		exit 0
	fi
done

# One-line format: deb [options] URI suite component...
for f in "$etc"/sources.list "$etc"/sources.list.d/*.list; do
	[ -r "$f" ] || continue
	uri=$(sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
		awk '$1 == "deb" && $3 !~ /-/ { print $2; exit }')
	if [ -n "$uri" ]; then
		echo "${uri%/}"
		exit 0
	fi
done

echo "apt-mirror: no Debian archive in $etc/sources.list*; set VHOSTX_MIRROR" >&2
exit 1
