#!/usr/bin/env bash
# Print the (arch, series) pairs among the arguments that make vmtest can
# boot, comma-separated for -kcr.pairs: those that build-kmod.sh did not
# mark unavailable (the archive serves no kernel of that pair today). Each
# pair left out is named on stderr with the reason; with none left, exit 1.
#
# Usage: vmtest/pairs.sh ARCH/SERIES...
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
run=()
for p in "$@"; do
	f=$top/build/${p#*/}/${p%/*}/unavailable
	if [ -e "$f" ]; then
		echo "vmtest: leaving out $p: $(cat "$f")" >&2
	else
		run+=("$p")
	fi
done
if [ ${#run[@]} = 0 ]; then
	echo "vmtest: no pair left to run of: $*" >&2
	exit 1
fi
(IFS=,; echo "${run[*]}")
