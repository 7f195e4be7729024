#!/bin/bash
# Placeholder demo (run inside the VM by `make demo`): load the modules
# from this tree and list the vhostx devices.  To be replaced by the real
# end-to-end demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
tools/testing/vm/load-modules.sh
ls -l /dev/vhostx-* /dev/vhost-net
