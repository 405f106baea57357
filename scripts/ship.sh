# shellcheck shell=bash
# What scripts/dist and scripts/deb do alike to a staged install tree: strip
# it, check what its ELF files need, pack it reproducibly.

# The ELF files of a tree: its programs and shared objects.
ship_elf_files() {
	local f
	while IFS= read -r -d '' f; do
		if [[ $(head -c 4 "$f" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]]; then
			printf '%s\n' "$f"
		fi
	done < <(find "$1" -type f -print0 | sort -z)
}

# ship_strip TREE: debugging sections and unneeded symbols out, as dh_strip
# does (the preload's exported hooks are dynamic symbols: they stay).
ship_strip() {
	local f
	while IFS= read -r f; do
		strip --strip-unneeded --remove-section=.comment --remove-section=.note "$f"
	done < <(ship_elf_files "$1")
}

# ship_check TREE gnu|musl: every ELF file needs libc alone (glibc's own
# libpthread, libdl and libm count as libc: before 2.34 they are separate);
# the gnu tree nothing newer than glibc 2.17. Exits 1 otherwise.
ship_check() {
	local tree=$1 flavor=$2 f needed allowed files=()
	case $flavor in
	gnu) allowed='libc\.so\.6|libpthread\.so\.0|libdl\.so\.2|libm\.so\.6|ld-linux-x86-64\.so\.2' ;;
	musl) allowed='libc\.so(\.6)?' ;;
	esac
	mapfile -t files < <(ship_elf_files "$tree")
	[[ ${#files[@]} -gt 0 ]] || { echo "ship: $tree holds no program or library" >&2; exit 1; }
	for f in "${files[@]}"; do
		needed=$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -vxE "$allowed" || true)
		if [[ -n $needed ]]; then
			echo "ship: ${f#"$tree"/} needs libraries beyond libc: ${needed//$'\n'/ }" >&2
			exit 1
		fi
	done
	if [[ $flavor == gnu ]]; then
		"$(dirname "${BASH_SOURCE[0]}")/check-portable" "${files[@]}"
	fi
}

# ship_tar TREE FILE: TREE's contents as FILE (.tar.gz), entries ./..., root
# owned, dated from the last commit or SOURCE_DATE_EPOCH, in name order.
ship_tar() {
	local epoch
	epoch=${SOURCE_DATE_EPOCH:-$(git -C "$(dirname "${BASH_SOURCE[0]}")" log -1 --format=%ct 2>/dev/null || echo 0)}
	tar -C "$1" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
		--format=gnu -cf - . | gzip -9n >"$2.tmp"
	mv "$2.tmp" "$2"
}
