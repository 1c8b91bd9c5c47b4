#!/usr/bin/env bash
# Build the debug kernels (KASAN, lockdep, kmemleak, ...) for the guest
# architectures from Debian's linux-source-6.1 and the kconfig/ fragments,
# in the layout of WireGuard's QEMU tests: allnoconfig, then the fragments
# merged by scripts/kconfig/merge_config.sh.
#
# Usage: vmtest/debug-kernel.sh [ARCH...]   (x86_64 s390x ppc64le; default all)
# Prints what kernels.sh prints, for the debug builds:
#   KERNEL_<arch>=... KDIR_<arch>=... VERSION_<arch>=...
#
# Each build lives in $KCR_CACHE/debug/<arch>-<key>, where the key hashes
# the source package version, the compiler and the config that the
# fragments make: a fragment change that changes the config builds anew,
# anything else reuses the build. The
# source is unpacked once per version into $KCR_CACHE/debug/src-<version>
# and shared by all arches (out-of-tree O= builds). A lock serialises
# builds (two kernel builds at once on a small machine only slow both);
# finding a kernel already built takes no lock.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${KCR_CACHE:-$HOME/.cache/kcr}
tarball=${KCR_KERNEL_SRC:-/usr/src/linux-source-6.1.tar.xz}
dbg=$cache/debug
mkdir -p "$dbg"

all=(x86_64 s390x ppc64le)
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=("${all[@]}")

for a in "${arches[@]}"; do
	case $a in
	x86_64 | s390x | ppc64le) ;;
	*) echo "debug-kernel: unknown arch '$a' (valid: ${all[*]})" >&2; exit 2 ;;
	esac
done

[ -r "$tarball" ] || {
	echo "debug-kernel: $tarball is missing (make deps installs linux-source-6.1)" >&2
	exit 1
}
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || true)
[ -n "$srcver" ] || srcver=$(stat -c %Y "$tarball")

src=$dbg/src-$srcver/linux-source-6.1
locked=
# lock_and_unpack: take the build lock (once) and unpack the source if
# it is not yet; a kernel already built needs neither.
lock_and_unpack() {
	if [ -z "$locked" ]; then
		exec 9>"$dbg/.lock"
		if ! flock -n 9; then
			echo "debug-kernel: waiting for another debug kernel build to finish" >&2
			flock 9
		fi
		locked=1
	fi
	if [ ! -e "$src/Makefile" ]; then
		echo "debug-kernel: unpacking $tarball into $dbg/src-$srcver" >&2
		rm -rf "$dbg/src-$srcver" "$dbg/src-$srcver.tmp"
		mkdir -p "$dbg/src-$srcver.tmp"
		tar -C "$dbg/src-$srcver.tmp" -xf "$tarball"
		mv "$dbg/src-$srcver.tmp" "$dbg/src-$srcver"
	fi
}

# check_config FRAGMENT... CONFIG: every value a fragment asks for must be
# in the final config; Kconfig drops what an arch lacks without a word.
check_config() {
	local cfg=${*: -1} bad=0 line sym want got
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*) sym=${line%%=*} want=${line#*=} ;;
		"# CONFIG_"*" is not set") sym=${line#"# "} sym=${sym%% *} want=n ;;
		*) continue ;;
		esac
		got=$(sed -n "s/^$sym=//p" "$cfg")
		if [ -z "$got" ] && grep -q "^# $sym is not set" "$cfg"; then got=n; fi
		[ -n "$got" ] || got=n
		if [ "$want" != "$got" ]; then
			echo "debug-kernel: $sym=$want asked for, the config has $got" >&2
			bad=1
		fi
	done < <(cat "${@:1:$#-1}")
	return $bad
}

for a in "${arches[@]}"; do
	case $a in
	x86_64) karch=x86; cross=; image=arch/x86/boot/bzImage ;;
	s390x) karch=s390; cross=s390x-linux-gnu-; image=arch/s390/boot/bzImage ;;
	ppc64le) karch=powerpc; cross=powerpc64le-linux-gnu-; image=vmlinux ;;
	esac
	[ "$a" != "$(uname -m)" ] || cross=
	frags=("$top/kconfig/base.config" "$top/kconfig/$a.config" "$top/kconfig/debug.config")
	cc=$("${cross}gcc" --version | head -1)
	# The fragments' hash names a link to the build; on a miss, the
	# config they make is hashed, so that a fragment edit that leaves
	# the config as it was (a comment, a moved line) rebuilds nothing.
	fkey=$({
		echo "$srcver $a $cc"
		cat "${frags[@]}"
	} | sha256sum | cut -c1-12)
	link=$dbg/$a-frag-$fkey
	if [ ! -e "$link/.kcr-built" ]; then
		lock_and_unpack
		cfg=$dbg/$a-config.tmp
		rm -rf "$cfg"
		mkdir -p "$cfg"
		(
			cd "$src"
			export ARCH=$karch CROSS_COMPILE=$cross
			unset MAKEFLAGS MFLAGS MAKELEVEL
			scripts/kconfig/merge_config.sh -n -O "$cfg" "${frags[@]}"
		) >"$cfg/config.log" 2>&1 || {
			tail -20 "$cfg/config.log" >&2
			echo "debug-kernel: configuring the $a kernel failed (see $cfg/config.log)" >&2
			exit 1
		}
		check_config "${frags[@]}" "$cfg/.config" || {
			echo "debug-kernel: the $a config lacks what the fragments ask for (see $cfg/config.log)" >&2
			exit 1
		}
		key=$({
			echo "$srcver $a $cc"
			grep -v '^#' "$cfg/.config"
		} | sha256sum | cut -c1-12)
		out=$dbg/$a-$key
		if [ ! -e "$out/.kcr-built" ]; then
			echo "debug-kernel: building the $a debug kernel in $out (log: $out/build.log)" >&2
			# An interrupted build of the same config goes on where it
			# stopped (kbuild deletes what it was writing when killed).
			if ! cmp -s "$cfg/.config" "$out/.config.kcr"; then
				rm -rf "$out"
				mkdir -p "$out"
				cp "$cfg/.config" "$out/.config.kcr"
			fi
			cp "$cfg/.config" "$out/.config"
			cat "$cfg/config.log" >>"$out/build.log"
			# Wall and CPU seconds: the CPU time says what the build
			# costs on an idle machine, whatever else ran beside it.
			TIMEFORMAT='%R %U %S'
			if ! { time { (
				unset MAKEFLAGS MFLAGS MAKELEVEL
				make -C "$src" O="$out" ARCH="$karch" CROSS_COMPILE="$cross" \
					-j"$(nproc)" olddefconfig all
			) >>"$out/build.log" 2>&1; }; } 2>"$out/build-time"; then
				tail -30 "$out/build.log" >&2
				echo "debug-kernel: building the $a kernel failed (see $out/build.log)" >&2
				exit 1
			fi
			read -r wall user sys <"$out/build-time" || true
			touch "$out/.kcr-built"
			echo "debug-kernel: $a built in ${wall%.*} s (CPU ${user%.*} s user, ${sys%.*} s system)" >&2
		fi
		rm -rf "$cfg"
		ln -sfn "$(basename "$out")" "$link"
	fi
	out=$(cd "$link" && pwd -P)
	rel=$(cat "$out/include/config/kernel.release")
	echo "KERNEL_$a=$out/$image"
	echo "KDIR_$a=$out"
	echo "VERSION_$a=$rel"
done
