#!/usr/bin/env bash
# Fetch today's Debian bookworm kernels (image + headers) for the three guest
# architectures into $KCR_CACHE, without touching the host's dpkg
# architectures: apt runs with a private list directory and an explicit
# APT::Architectures, and packages are unpacked with dpkg-deb -x.
#
# Usage: vmtest/kernels.sh [ARCH...]   (x86_64 s390x ppc64le; default all)
# Prints, per arch, the resolved ABI version and where things are:
#   KERNEL_<arch>=... KDIR_<arch>=... VERSION_<arch>=...
# A second run downloads nothing unless the archive moved to a new ABI.
set -euo pipefail

cache=${KCR_CACHE:-$HOME/.cache/kcr}
apt_dir=$cache/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$cache/kernels"

all=(x86_64 s390x ppc64le)
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=("${all[@]}")

debarch() {
	case $1 in
	x86_64) echo amd64 ;;
	s390x) echo s390x ;;
	ppc64le) echo ppc64el ;;
	*) echo "kernels.sh: unknown arch '$1' (valid: ${all[*]})" >&2; return 1 ;;
	esac
}
flavor() {
	case $1 in
	x86_64) echo amd64 ;;
	s390x) echo s390x ;;
	ppc64le) echo powerpc64le ;;
	esac
}

aptopts=(
	-o "APT::Architectures=amd64,s390x,ppc64el"
	-o "Dir::State::Lists=$apt_dir/lists"
	-o "Dir::Cache::Archives=$apt_dir/archives"
	-o "Dir::Cache::pkgcache=$apt_dir/pkgcache.bin"
	-o "Dir::Cache::srcpkgcache=$apt_dir/srcpkgcache.bin"
	-o "Debug::NoLocking=1"
	-o "APT::Sandbox::User=root"
)

# Refresh the private index at most once an hour; a failing foreign-arch
# index only warns, so check afterwards that what we need resolves.
stamp=$apt_dir/updated
if [ -z "$(find "$stamp" -mmin -60 2>/dev/null)" ]; then
	echo "kernels: refreshing the package index (private state in $apt_dir)" >&2
	apt-get "${aptopts[@]}" -q update >"$apt_dir/update.log" 2>&1 || \
		echo "kernels: apt-get update reported errors (see $apt_dir/update.log); going on" >&2
	touch "$stamp"
fi

# depver PKG:ARCH PREFIX -> the dependency of PKG whose name starts with PREFIX
depname() {
	{ apt-cache "${aptopts[@]}" depends "$1" 2>/dev/null || true; } |
		awk -v p="$2" '$1 ~ /Depends:/ && index($2, p) == 1 { sub(/:.*/, "", $2); print $2; exit }'
}
pkgver() {
	{ apt-cache "${aptopts[@]}" show "$1" 2>/dev/null || true; } | awk '/^Version:/ { print $2; exit }'
}

# fetch PKG:ARCH DEST: download (cached by apt-get download's file name) and unpack
fetch() {
	local pkg=$1 dest=$2 ver file
	ver=$(pkgver "$pkg")
	if [ -z "$ver" ]; then
		echo "kernels: package $pkg is not in the archive (or the archive is unreachable; see $apt_dir/update.log)" >&2
		return 1
	fi
	local name=${pkg%%:*} arch=${pkg##*:}
	file=$apt_dir/archives/${name}_${ver//:/%3a}_${arch}.deb
	if [ ! -s "$file" ]; then
		echo "kernels: downloading $pkg $ver" >&2
		(cd "$apt_dir/archives" && apt-get "${aptopts[@]}" -q download "$pkg=$ver" >/dev/null) || {
			echo "kernels: cannot download package $pkg=$ver" >&2
			return 1
		}
	fi
	if [ ! -e "$dest/.unpacked-$(basename "$file")" ]; then
		mkdir -p "$dest"
		dpkg-deb -x "$file" "$dest"
		touch "$dest/.unpacked-$(basename "$file")"
	fi
}

for a in "${arches[@]}"; do
	da=$(debarch "$a")
	fl=$(flavor "$a")
	# KCR_KERNEL_META_<arch> picks another flavour's meta package, e.g.
	# linux-image-cloud-amd64 or linux-image-rt-amd64.
	var=KCR_KERNEL_META_$a
	meta=${!var:-linux-image-$fl}:$da
	img=$(depname "$meta" linux-image-6)
	if [ -z "$img" ]; then
		echo "kernels: cannot resolve package $meta in the archive (missing, or the index is unreachable: see $apt_dir/update.log)" >&2
		exit 1
	fi
	abi=${img#linux-image-}      # e.g. 6.1.0-42-amd64
	abi=${abi%-unsigned}
	abinum=${abi%-"$fl"}          # e.g. 6.1.0-42
	ver=$(pkgver "$img:$da")
	root=$cache/kernels/$abi
	fetch "$img:$da" "$root"
	fetch "linux-headers-$abi:$da" "$root"
	fetch "linux-headers-$abinum-common:all" "$root"
	kbver=$(pkgver "linux-kbuild-6.1:amd64")
	fetch "linux-kbuild-6.1:amd64" "$cache/kbuild-$kbver"
	# The headers include the -common tree by absolute /usr path, and both
	# trees reach kbuild's scripts through ../../lib/linux-kbuild-6.1:
	# point the first into the cache and make the second exist there.
	kdir=$root/usr/src/linux-headers-$abi
	if [ ! -e "$kdir/.kcr-fixed" ]; then
		sed -i "s|^include /usr/src/linux-headers-|include $root/usr/src/linux-headers-|" "$kdir/Makefile"
		touch "$kdir/.kcr-fixed"
	fi
	mkdir -p "$root/usr/lib"
	ln -sfn "$cache/kbuild-$kbver/usr/lib/linux-kbuild-6.1" "$root/usr/lib/linux-kbuild-6.1"
	case $a in
	ppc64le) kernel=$root/boot/vmlinux-$abi ;;
	*) kernel=$root/boot/vmlinuz-$abi ;;
	esac
	[ -e "$kernel" ] || { echo "kernels: $img has no $kernel" >&2; exit 1; }
	echo "kernels: $a: $img $ver" >&2
	echo "KERNEL_$a=$kernel"
	echo "KDIR_$a=$kdir"
	echo "VERSION_$a=$abi"
done
