#!/usr/bin/env bash
# Build kcr.ko and the test-only kcr_warn.ko for one guest arch and kernel
# series into build/<series>/<arch>/, against the Debian kernel headers
# that kernels.sh fetched for that series, or against a developer's own
# tree (KDIR=..., with KERNEL=... for booting).
# With DEBUG=1 (or SERIES debug), into build/debug/<arch>/ against the
# debug kernel that debug-kernel.sh builds from linux-source-6.1.
# Each (arch, series) pair builds in its own copy of the sources:
# out-of-tree modules build beside their sources, and pairs must not share
# objects. kcr_warn.ko and kernel.env come first, so that a kernel on which
# kcr.ko does not build yet can still boot the log guard's test.
#
# Usage: vmtest/build-kmod.sh ARCH [SERIES]   (SERIES: 6.1, the default, 6.12, debug)
# Exits 3, leaving build/<series>/<arch>/unavailable, when kernels.sh finds
# that the archive cannot supply the pair's kernel today.
set -euo pipefail

arch=${1:?usage: build-kmod.sh ARCH [SERIES]}
series=${2:-6.1}
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$series" != debug ] || DEBUG=1
if [ "${DEBUG:-}" = 1 ]; then
	series=debug
	kernels=("$top/vmtest/debug-kernel.sh")
else
	kernels=("$top/vmtest/kernels.sh" -s "$series")
fi
out=$top/build/$series/$arch
pair="$arch $series"

case $arch in
x86_64) karch=x86; triplet=x86_64-linux-gnu- ;;
s390x) karch=s390; triplet=s390x-linux-gnu- ;;
ppc64le) karch=powerpc; triplet=powerpc64le-linux-gnu- ;;
*) echo "build-kmod: unknown arch '$arch' (valid: ppc64le s390x x86_64)" >&2; exit 2 ;;
esac
# An x86-64 host builds natively for x86-64.
cross=$triplet
[ "$arch" != "$(uname -m)" ] || cross=

# What an earlier build left must not outlive a failure to find the kernel.
rm -f "$out/kernel.env" "$out/unavailable"
kdir=${KDIR:-}
kernel=${KERNEL:-}
if [ -z "$kdir" ] || [ -z "$kernel" ]; then
	rc=0
	env=$("${kernels[@]}" "$arch") || rc=$?
	if [ $rc = 3 ]; then
		# The archive offers no kernel of this pair today: say so where
		# make vmtest looks, and let it run the arch's other series.
		mkdir -p "$out"
		echo "the archive lists no downloadable $series kernel for $arch today (make kernels ARCH=$arch KSERIES=$series says which)" >"$out/unavailable"
		echo "build-kmod: $pair: $(cat "$out/unavailable")" >&2
		exit 3
	elif [ $rc != 0 ]; then
		echo "build-kmod: $pair: no kernel (${kernels[*]##*/} $arch failed)" >&2
		exit 1
	fi
	[ -n "$kdir" ] || kdir=$(sed -n "s/^KDIR_$arch=//p" <<<"$env")
	[ -n "$kernel" ] || kernel=$(sed -n "s/^KERNEL_$arch=//p" <<<"$env")
fi
[ -d "$kdir" ] || { echo "build-kmod: $pair: KDIR $kdir is not a directory" >&2; exit 1; }

mkdir -p "$out"
rm -rf "$out/kmod" "$out/testmod" "$out/uapi"
cp -r "$top/kmod" "$out/kmod"
cp -r "$top/vmtest/testmod" "$out/testmod"
mkdir -p "$out/uapi"
cp -r "$top"/uapi/linux "$top"/uapi/asm-* "$out/uapi/"

# A kernel built with newer tools than Debian 12's (Debian 13's: gcc-14,
# pahole 1.30) builds its modules here with the host's: its headers ask
# for a gcc-N (.kernelvariables) that is not installed, and kbuild would
# pass the newer tools' options. Then gcc-14's -fmin-function-alignment
# gives way to -falign-functions (the same alignment, except for cold
# functions), and pahole gets the BTF options of the host's version.
tools=()
want=$(sed -n 's/^CC = .*gcc-\([0-9][0-9]*\)$/\1/p' "$kdir/.kernelvariables" 2>/dev/null || true)
if [ -n "$want" ] && ! command -v "${triplet}gcc-$want" >/dev/null; then
	have=$("${triplet}gcc" -dumpversion)
	echo "build-kmod: $pair: $(basename "$kdir") was built with gcc-$want, which is not installed: building with ${triplet}gcc-$have" >&2
	tools+=(CC="${triplet}gcc-$have" CONFIG_CC_HAS_MIN_FUNCTION_ALIGNMENT=)
fi
kpahole=$(sed -n 's/^CONFIG_PAHOLE_VERSION=//p' "$kdir/include/config/auto.conf" 2>/dev/null || true)
hpahole=$(pahole --version 2>/dev/null | tr -dc 0-9 || true)
if [ -n "$kpahole" ] && [ -n "$hpahole" ] && [ "$hpahole" -lt "$kpahole" ]; then
	tools+=(CONFIG_PAHOLE_VERSION="$hpahole")
fi

# The kbuild sub-make must not see our own make's ARCH= (a kcr arch name).
unset MAKEFLAGS MFLAGS MAKELEVEL
build() {
	make -s -C "$kdir" M="$out/$1" ARCH="$karch" CROSS_COMPILE="$cross" \
		KBUILD_MODPOST_WARN= W= "${tools[@]}" modules
}
build testmod || {
	echo "build-kmod: $pair: the test module kcr_warn.ko does not build against $(basename "$kdir") ($kdir)" >&2
	exit 1
}
printf 'KERNEL=%s\nKDIR=%s\n' "$kernel" "$kdir" >"$out/kernel.env"
build kmod || {
	echo "build-kmod: $pair: kcr.ko does not build against $(basename "$kdir") ($kdir); errors above" >&2
	exit 1
}
echo "build-kmod: $pair: $out/kmod/kcr.ko ($(basename "$kdir"))" >&2
