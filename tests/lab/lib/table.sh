# shellcheck shell=bash
# lib/table.sh: the run side of the test table (tests.txt, or $KITE_LAB_TESTS): checks its
# shape and lists the test names. batch.sh reads the same format on its own (POSIX sh, in L1).
#
# Format (see the header of tests.txt): blocks, one per test, each opened by "test NAME"
# and followed by field lines "KEY VALUE": needs, timeout, exit, send (at most once each),
# expect and cmd (repeatable: one expectation per line; cmd lines are joined with a
# space); "+ TEXT" continues the line above with nothing in between. '#' lines and blank
# lines are ignored.

# table_check TABLE: prints "TABLE:LINE: problem" for each malformed line and fails if any.
table_check() {
	awk -v f="$1" '
	function bad(msg) { printf "%s:%d: %s\n", f, NR, msg; errs++ }
	function close_block() {
		if (name != "" && !("cmd" in seen)) { printf "%s:%d: test %s has no cmd line\n", f, start, name; errs++ }
	}
	/^[[:space:]]*(#|$)/ { next }
	{
		key = $1
		if (key == "test") {
			close_block()
			if (NF != 2 || $2 !~ /^[A-Za-z0-9_.-]+$/) { bad("want \"test NAME\" (NAME: letters, digits, _ . -)"); name = ""; next }
			if ($2 in names) bad("test " $2 " defined twice (also on line " names[$2] ")")
			names[$2] = NR; name = $2; start = NR; last = ""; delete seen
			next
		}
		if (key == "+") {
			if (name == "" || last == "") bad("\"+\" line without a field line above it")
			else if (NF < 2) bad("\"+\" without a value")
			next
		}
		last = ""
		if (key !~ /^(needs|timeout|exit|send|expect|cmd)$/) {
			if (index($0, "|")) bad("\"" key "\": the old one-line \"name | needs | ... | command\" format? (now a block per test)")
			else bad("unknown field \"" key "\"")
			next
		}
		if (name == "") { bad("\"" key "\" outside a test block (no \"test NAME\" line before it)"); next }
		if (NF < 2) { bad("\"" key "\" without a value"); next }
		if (key ~ /^(needs|timeout|exit|send)$/ && (key in seen)) bad("\"" key "\" given twice in test " name)
		if (key == "timeout" && $2 !~ /^[0-9]+$/) bad("timeout must be a number of seconds")
		seen[key] = 1
		last = key
	}
	END { close_block(); exit errs > 0 }' "$1"
}

# table_names TABLE [REGEX]: the test names in table order, those matching REGEX if given.
table_names() {
	sed -n 's/^[[:space:]]*test[[:space:]]\{1,\}\([^[:space:]]\{1,\}\)[[:space:]]*$/\1/p' "$1" |
		{ if [[ -n ${2:-} ]]; then grep -E -e "$2"; else cat; fi; }
}
