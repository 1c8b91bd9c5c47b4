#!/usr/bin/env bash
# Fetch today's Debian kernels (image + headers) of one kernel series for
# the guest architectures into $KCR_CACHE, without touching the host's
# dpkg architectures or apt state: every Debian arch has its own private
# apt index (lists, caches, an empty dpkg status, APT::Architectures=<that
# arch>, a private sources list), so an index that fails to download for
# one arch cannot hide a suite from another; packages are unpacked with
# dpkg-deb -x.
#
# Usage: vmtest/kernels.sh [-s SERIES] [ARCH...]
#   SERIES  6.1 (default) or 6.12
#   ARCH    x86_64 s390x ppc64le (default all)
# Prints, per arch, the resolved ABI version and where things are:
#   KERNEL_<arch>=... KDIR_<arch>=... VERSION_<arch>=...
# Exits 3 (after the other arches) when the archive lists a kernel for an
# arch but its pool serves no version of it: the archive cannot supply that
# (arch, series) pair today, which make's targets report and leave out.
# Any other failure (an unreachable index, a broken package) exits 1.
#
# Where each series comes from:
#   6.1   the meta package linux-image-<flavour> of Debian 12 (bookworm,
#         bookworm-updates, bookworm-security).
#   6.12  linux-image-6.12-<flavour> of Debian 12 (bookworm-security). An
#         arch that does not get it there (bookworm-security builds no
#         s390x; an arch's security index can fail to download) falls back
#         to Debian 13 trixie, whose linux-image-<flavour> is 6.12, with a
#         note on stderr saying why. Trixie's linux-kbuild is linked against
#         trixie's glibc and does not run on Debian 12, so its headers get
#         Debian 12's amd64 linux-kbuild of the same upstream version (the
#         newest 6.12 one, with a warning, if that version is not there).
# The host's kbuild tools always come from the Debian 12 amd64 index.
#
# Environment:
#   KCR_CACHE                   cache directory (default ~/.cache/kcr)
#   KCR_KERNEL_META_<arch>      another 6.1 meta package, e.g. linux-image-rt-amd64
#   KCR_KERNEL_META_<arch>_6_12 the same for 6.12 (no trixie fallback then)
#   KCR_DEBIAN_MIRROR, KCR_DEBIAN_SECURITY_MIRROR  the archive's URLs
# Each index is refreshed at most once an hour (its log is
# $KCR_CACHE/apt/<suites>/<debarch>/update.log); a second run downloads
# nothing unless the archive moved to a new ABI.
set -euo pipefail

cache=${KCR_CACHE:-$HOME/.cache/kcr}
mirror=${KCR_DEBIAN_MIRROR:-http://deb.debian.org/debian}
secmirror=${KCR_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
archives=$cache/apt/archives
mkdir -p "$archives/partial" "$cache/kernels"

all=(x86_64 s390x ppc64le)
serieses=(6.1 6.12)
usage() { echo "usage: kernels.sh [-s SERIES] [ARCH...]   (SERIES: ${serieses[*]}; ARCH: ${all[*]})" >&2; }

series=6.1
while getopts s: opt; do
	case $opt in
	s) series=$OPTARG ;;
	*) usage; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
case $series in
6.1 | 6.12) ;;
*) echo "kernels: unknown series '$series' (valid: ${serieses[*]})" >&2; exit 2 ;;
esac

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
for a in "${arches[@]}"; do
	debarch "$a" >/dev/null || exit 2
done

# An index is one set of suites for one Debian arch, in
# $cache/apt/<set>/<debarch>: set deb12 is bookworm, bookworm-updates and
# bookworm-security; set trixie is Debian 13 (trixie, trixie-updates,
# trixie-security).
sources() {
	case $1 in
	deb12)
		printf 'deb [signed-by=%s] %s %s main\n' \
			"$keyring" "$mirror" bookworm \
			"$keyring" "$mirror" bookworm-updates \
			"$keyring" "$secmirror" bookworm-security
		;;
	trixie)
		printf 'deb [signed-by=%s] %s %s main\n' \
			"$keyring" "$mirror" trixie \
			"$keyring" "$mirror" trixie-updates \
			"$keyring" "$secmirror" trixie-security
		;;
	esac
}

# aptx SET DEBARCH apt-get|apt-cache ARGS...: run apt on that index only.
aptx() {
	local d=$cache/apt/$1/$2 da=$2 tool=$3
	shift 3
	"$tool" \
		-o "APT::Architecture=$da" -o "APT::Architectures=$da" \
		-o "Dir::Etc::sourcelist=$d/sources.list" -o "Dir::Etc::sourceparts=$d/empty.d" \
		-o "Dir::Etc::preferences=$d/preferences" -o "Dir::Etc::preferencesparts=$d/empty.d" \
		-o "Dir::State::Lists=$d/lists" -o "Dir::State::status=$d/status" \
		-o "Dir::Cache::Archives=$archives" \
		-o "Dir::Cache::pkgcache=$d/pkgcache.bin" -o "Dir::Cache::srcpkgcache=$d/srcpkgcache.bin" \
		-o "Debug::NoLocking=1" -o "APT::Sandbox::User=root" \
		"$@"
}

# refresh SET DEBARCH: update the index if it is more than an hour old (or
# its sources changed). A failed download only warns: what is needed is
# checked when it is resolved, and update.log keeps the evidence.
refresh() {
	local d=$cache/apt/$1/$2
	mkdir -p "$d/lists/partial" "$d/empty.d"
	[ -e "$d/status" ] || : >"$d/status"
	sources "$1" >"$d/sources.list.new"
	if cmp -s "$d/sources.list.new" "$d/sources.list"; then
		rm "$d/sources.list.new"
	else
		mv "$d/sources.list.new" "$d/sources.list"
		rm -f "$d/updated"
	fi
	if [ -z "$(find "$d/updated" -mmin -60 2>/dev/null)" ]; then
		echo "kernels: refreshing the $1 $2 package index (private state in $d)" >&2
		aptx "$1" "$2" apt-get -q update >"$d/update.log" 2>&1 ||
			echo "kernels: apt-get update reported errors for the $1 $2 index (see $d/update.log); going on" >&2
		touch "$d/updated"
	fi
}

# depname SET DEBARCH PKG REGEX -> PKG's first dependency whose name matches REGEX
depname() {
	{ aptx "$1" "$2" apt-cache depends "$3" 2>/dev/null || true; } |
		awk -v re="$4" '$1 ~ /Depends:$/ { n = $2; sub(/:.*/, "", n); if (n ~ re) { print n; exit } }'
}
# candidate SET DEBARCH PKG -> the version apt would take, or nothing
candidate() {
	{ aptx "$1" "$2" apt-cache policy "$3" 2>/dev/null || true; } |
		awk '$1 == "Candidate:" && $2 != "(none)" { print $2; exit }'
}
# hasver SET DEBARCH PKG VERSION: whether the index has that version
hasver() {
	{ aptx "$1" "$2" apt-cache madison "$3" 2>/dev/null || true; } |
		awk -F' *[|] *' -v v="$4" '$2 == v { found = 1 } END { exit !found }'
}
# suite SET DEBARCH PKG VERSION -> the suite that version comes from
suite() {
	{ aptx "$1" "$2" apt-cache madison "$3" 2>/dev/null || true; } |
		awk -F' *[|] *' -v v="$4" '$2 == v { n = split($3, w, " "); s = w[2]; sub(/\/.*/, "", s); print s; exit }'
}

# fetch SET DEBARCH PKG:ARCH VERSION DEST: download (cached by apt-get
# download's file name) and unpack
fetch() {
	local set=$1 da=$2 pkg=$3 ver=$4 dest=$5 file
	local name=${pkg%%:*} arch=${pkg##*:}
	file=$archives/${name}_${ver//:/%3a}_${arch}.deb
	if [ ! -s "$file" ]; then
		echo "kernels: downloading $pkg $ver" >&2
		(cd "$archives" && aptx "$set" "$da" apt-get -q download "$pkg=$ver" >/dev/null) || {
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
# versions SET DEBARCH PKG -> the index's versions of PKG, newest first
versions() {
	{ aptx "$1" "$2" apt-cache madison "$3" 2>/dev/null || true; } | awk -F' *[|] *' '{ print $2 }'
}
# pick SET DEBARCH PKG VERSION -> VERSION if the index has it, else the candidate
pick() {
	if hasver "$@"; then echo "$4"; else candidate "$1" "$2" "$3"; fi
}

# idxerr SET DEBARCH [SUITE] -> what failed in the index's last refresh
# (of SUITE only, if given), one "suite: reason" per line
idxerr() {
	awk -v s="${3:-}" '/^Err:/ && (s == "" || index($0, " " s "/")) {
		split($3, w, "/"); getline m; sub(/^ +/, "", m); sub(/ *\[IP: [^]]*\]$/, "", m)
		print w[1] ": " m }' "$cache/apt/$1/$2/update.log" 2>/dev/null || true
}
# why612 DEBARCH: why the Debian 12 index has no 6.12 kernel for the arch
why612() {
	local d=$cache/apt/deb12/$1 rel err
	rel=$(find "$d/lists" -maxdepth 1 -name '*_bookworm-security_InRelease' 2>/dev/null | head -1)
	err=$(idxerr deb12 "$1" bookworm-security)
	if [ -n "$err" ]; then
		echo "its bookworm-security index did not download ($err; see $d/update.log)"
	elif [ -n "$rel" ] && ! grep -q "^Architectures:.* $1\( \|$\)" "$rel"; then
		echo "bookworm-security builds no $1 ($(grep -m1 '^Architectures:' "$rel"))"
	else
		echo "Debian 12's index for $1 has no such package (see $d/update.log)"
	fi
}

# resolve SET DEBARCH META: the newest version of META whose kernel, headers
# and -common headers download (a mirror can list packages its pool does
# not hold yet: then an older version of META is tried). Sets img, imgver,
# abi, hdrver, kbuild, root; returns 1 if META has no version that works
# (with tried set if some version failed to download).
resolve() {
	local idx=$1 da=$2 meta=$3 mver common
	tried=
	for mver in $(versions "$idx" "$da" "$meta"); do
		img=$(depname "$idx" "$da" "$meta=$mver" '^linux-image-[0-9]')
		[ -n "$img" ] || continue
		case $img in
		linux-image-"$series".[0-9]*) ;;
		*) echo "kernels: $meta $mver depends on $img, which is not a $series kernel" >&2; return 1 ;;
		esac
		abi=${img#linux-image-} # e.g. 6.1.0-42-amd64, 6.12.117+deb12-amd64
		abi=${abi%-unsigned}
		root=$cache/kernels/$abi
		imgver=$(pick "$idx" "$da" "$img:$da" "$mver")
		hdrver=$(pick "$idx" "$da" "linux-headers-$abi:$da" "$imgver")
		if [ -z "$imgver" ] || [ -z "$hdrver" ]; then
			echo "kernels: $meta $mver: no $img or linux-headers-$abi in the $idx $da index; trying an older $meta" >&2
			continue
		fi
		# The -common headers and kbuild are what the headers depend on.
		common=$(depname "$idx" "$da" "linux-headers-$abi:$da=$hdrver" '^linux-headers-.*-common$')
		kbuild=$(depname "$idx" "$da" "linux-headers-$abi:$da=$hdrver" '^linux-kbuild-')
		if [ -z "$common" ] || [ -z "$kbuild" ]; then
			echo "kernels: linux-headers-$abi:$da $hdrver names no -common headers or no linux-kbuild in its Depends" >&2
			return 1
		fi
		if fetch "$idx" "$da" "$img:$da" "$imgver" "$root" &&
			fetch "$idx" "$da" "linux-headers-$abi:$da" "$hdrver" "$root" &&
			fetch "$idx" "$da" "$common:all" "$(pick "$idx" "$da" "$common:all" "$hdrver")" "$root"; then
			return 0
		fi
		echo "kernels: $meta $mver ($img) is in the $idx $da index but cannot be downloaded" >&2
		tried=1
	done
	return 1
}

refresh deb12 amd64 # the host's kbuild tools, whatever the guest arch
unavailable=
for a in "${arches[@]}"; do
	da=$(debarch "$a")
	fl=$(flavor "$a")
	idx=deb12
	refresh $idx "$da"
	# KCR_KERNEL_META_<arch>[_6_12] picks another flavour's meta package,
	# e.g. linux-image-cloud-amd64 or linux-image-rt-amd64.
	if [ "$series" = 6.1 ]; then
		var=KCR_KERNEL_META_$a
		meta=${!var:-linux-image-$fl}:$da
	else
		var=KCR_KERNEL_META_${a}_${series//./_}
		meta=${!var:-linux-image-$series-$fl}:$da
	fi
	if [ "$series" = 6.12 ] && [ -z "${!var:-}" ] && [ -z "$(versions $idx "$da" "$meta")" ]; then
		echo "kernels: $a: no $meta in Debian 12: $(why612 "$da"); taking Debian 13 trixie's 6.12 kernel" >&2
		idx=trixie
		refresh $idx "$da"
		meta=linux-image-$fl:$da
	fi
	if ! resolve $idx "$da" "$meta"; then
		if [ -n "$tried" ]; then
			echo "kernels: no version of $meta that the $idx $da index lists can be downloaded (the mirror's pool lacks them)" >&2
		else
			echo "kernels: cannot resolve package $meta in the archive (missing, or the index is unreachable: see $cache/apt/$idx/$da/update.log)" >&2
		fi
		idxerr $idx "$da" | sed "s/^/kernels:   $idx $da index: /" >&2
		[ -n "$tried" ] || exit 1
		unavailable=1
		continue
	fi
	# The host's kbuild: Debian 12 amd64's package of that name, in the
	# version of the headers if the index has it; for a trixie kernel the
	# Debian 12 package of the same upstream version.
	kbpkg=$kbuild
	if [ $idx = trixie ]; then
		kbpkg=${kbuild%+deb*}+deb12
		if [ -z "$(candidate deb12 amd64 "$kbpkg:amd64")" ]; then
			newest=$(aptx deb12 amd64 apt-cache pkgnames "linux-kbuild-$series." 2>/dev/null | sort -V | tail -1 || true)
			if [ -z "$newest" ]; then
				echo "kernels: Debian 12 amd64 has no linux-kbuild-$series.* to use with the headers of $img (see $cache/apt/deb12/amd64/update.log)" >&2
				exit 1
			fi
			echo "kernels: warning: Debian 12 has no $kbpkg to stand for trixie's $kbuild; using $newest" >&2
			kbpkg=$newest
		fi
	fi
	kbver=$(pick deb12 amd64 "$kbpkg:amd64" "$hdrver")
	if [ -z "$kbver" ]; then
		echo "kernels: package $kbpkg:amd64 is not in the Debian 12 amd64 index (see $cache/apt/deb12/amd64/update.log)" >&2
		exit 1
	fi
	fetch deb12 amd64 "$kbpkg:amd64" "$kbver" "$cache/kbuild-$kbver"
	kbdir=$cache/kbuild-$kbver/usr/lib/$kbpkg
	[ -d "$kbdir" ] || { echo "kernels: $kbpkg $kbver has no $kbdir" >&2; exit 1; }
	# The headers include the -common tree by absolute /usr path, and both
	# trees reach kbuild's scripts through ../../lib/<their kbuild>: point
	# the first into the cache and make the second exist there.
	kdir=$root/usr/src/linux-headers-$abi
	if [ ! -e "$kdir/.kcr-fixed" ]; then
		sed -i "s|^include /usr/src/linux-headers-|include $root/usr/src/linux-headers-|" "$kdir/Makefile"
		touch "$kdir/.kcr-fixed"
	fi
	link=$(readlink "$kdir/scripts") # ../../lib/linux-kbuild-<ver>/scripts
	link=$(basename "$(dirname "$link")")
	mkdir -p "$root/usr/lib"
	ln -sfn "$kbdir" "$root/usr/lib/$link"
	case $a in
	ppc64le) kernel=$root/boot/vmlinux-$abi ;;
	*) kernel=$root/boot/vmlinuz-$abi ;;
	esac
	[ -e "$kernel" ] || { echo "kernels: $img has no $kernel" >&2; exit 1; }
	echo "kernels: $a $series: $img $imgver ($(suite $idx "$da" "$img:$da" "$imgver")), kbuild $kbpkg $kbver" >&2
	err=$(idxerr deb12 "$da" bookworm-security)
	[ $idx != deb12 ] || [ -z "$err" ] ||
		echo "kernels: warning: $a: bookworm-security's $da index did not download ($err): this kernel may not be the newest" >&2
	echo "KERNEL_$a=$kernel"
	echo "KDIR_$a=$kdir"
	echo "VERSION_$a=$abi"
done
[ -z "$unavailable" ] || exit 3
