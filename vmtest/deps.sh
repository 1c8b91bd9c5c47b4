#!/usr/bin/env bash
# Install what building and testing kcr needs on a Debian 12 host: QEMU for
# the three guests, the cross compilers, kbuild's host tools, the kernel
# source for checkpatch, pahole (6.12's kbuild runs it on every module),
# CRIU (make bench runs it in the x86-64 guest beside kcr), and the Go
# modules. Idempotent: it installs only
# what is missing.
set -euo pipefail

pkgs=(
	make gcc libc6-dev bc flex bison libelf-dev cpio kmod xz-utils dwarves
	qemu-system-x86 qemu-system-misc qemu-system-ppc
	gcc-s390x-linux-gnu gcc-powerpc64le-linux-gnu
	libc6-dev-s390x-cross libc6-dev-ppc64el-cross
	linux-source-6.1 criu
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "deps: installing ${missing[*]}" >&2
	# One foreign-arch index may fail to update; that must not stop us.
	$sudo apt-get update -q >/dev/null 2>&1 || echo "deps: apt-get update reported errors; going on" >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# checkpatch.pl comes from the kernel source package.
src=/usr/src/linux-source-6.1
if [ ! -x "$src/scripts/checkpatch.pl" ]; then
	echo "deps: unpacking $src.tar.xz for checkpatch" >&2
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo tar -C /usr/src -xf "$src.tar.xz" linux-source-6.1/scripts linux-source-6.1/include/linux/kernel.h 2>/dev/null ||
		$sudo tar -C /usr/src -xf "$src.tar.xz"
fi

go mod download
