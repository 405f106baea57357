# shellcheck shell=bash
# README's "Which way for my job?" blocks, as the tests run them (t-which.sh, t-deb.sh). Sourced after
# lib.sh, with TOP set.

# readme_block ROW: the code block after the line "<!-- which: ROW -->" in README.md as a user copies
# it, with the lab's zone for preview.example.com and without sudo (the lab is root; no sudo there).
readme_block() {
	awk -v tag="<!-- which: $1 -->" '
		$0 == tag { found = 1; next }
		found && /^```/ { if (body) exit; body = 1; next }
		body { print }' "$TOP/README.md" | sed 's/preview\.example\.com/lab.test/g; s/\(^\|[ ;&|]\)sudo /\1/g'
}
