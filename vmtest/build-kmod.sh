#!/usr/bin/env bash
# Build kcr.ko and the test-only kcr_warn.ko for one guest arch into
# build/<arch>/, against the Debian kernel headers that kernels.sh fetched,
# or against a developer's own tree (KDIR=..., with KERNEL=... for booting).
# With DEBUG=1, into build/debug/<arch>/ against the debug kernel that
# debug-kernel.sh builds.
# Each arch builds in its own copy of the sources: out-of-tree modules
# build beside their sources, and three arches must not share objects.
set -euo pipefail

arch=${1:?usage: build-kmod.sh ARCH}
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/$arch
kernels=$top/vmtest/kernels.sh
if [ "${DEBUG:-}" = 1 ]; then
	out=$top/build/debug/$arch
	kernels=$top/vmtest/debug-kernel.sh
fi

case $arch in
x86_64) karch=x86; cross= ;;
s390x) karch=s390; cross=s390x-linux-gnu- ;;
ppc64le) karch=powerpc; cross=powerpc64le-linux-gnu- ;;
*) echo "build-kmod: unknown arch '$arch' (valid: ppc64le s390x x86_64)" >&2; exit 2 ;;
esac
# An x86-64 host builds natively for x86-64.
[ "$arch" != "$(uname -m)" ] || cross=

kdir=${KDIR:-}
kernel=${KERNEL:-}
if [ -z "$kdir" ] || [ -z "$kernel" ]; then
	env=$("$kernels" "$arch")
	[ -n "$kdir" ] || kdir=$(sed -n "s/^KDIR_$arch=//p" <<<"$env")
	[ -n "$kernel" ] || kernel=$(sed -n "s/^KERNEL_$arch=//p" <<<"$env")
fi
[ -d "$kdir" ] || { echo "build-kmod: KDIR $kdir is not a directory" >&2; exit 1; }

mkdir -p "$out"
rm -rf "$out/kmod" "$out/testmod" "$out/uapi"
cp -r "$top/kmod" "$out/kmod"
cp -r "$top/vmtest/testmod" "$out/testmod"
mkdir -p "$out/uapi"
cp -r "$top"/uapi/linux "$top"/uapi/asm-* "$out/uapi/"

# The kbuild sub-make must not see our own make's ARCH= (a kcr arch name).
unset MAKEFLAGS MFLAGS MAKELEVEL
for m in kmod testmod; do
	make -s -C "$kdir" M="$out/$m" ARCH="$karch" CROSS_COMPILE="$cross" \
		KBUILD_MODPOST_WARN= W= modules
done
printf 'KERNEL=%s\nKDIR=%s\n' "$kernel" "$kdir" >"$out/kernel.env"
echo "build-kmod: $arch: $out/kmod/kcr.ko ($(basename "$kdir"))" >&2
