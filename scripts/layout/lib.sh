# Shared by the layout profilers: a program's functions in the order a run first executed them, for gold's
# --section-ordering-file. The release build emits every function in a section of its own
# (-Xfrontend -function-sections, RELEASE_FLAGS in the Makefile); the static stdlib already does. Laid out
# together, the functions a long-lived process runs fill a few 64 KiB windows of its binary instead of ~100
# (the kernel maps the whole 64 KiB around every page a process touches, "fault-around"): fewer resident and
# proportional (PSS) pages per process. A function missing from the list still works; it just sits elsewhere.
set -euo pipefail
command -v valgrind >/dev/null || { echo "layout: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "layout: needs python3" >&2; exit 1; }

# order_from_callgrind CALLGRIND_OUT ORDER_FILE: `.text.<mangled name>` per executed function, first use first.
order_from_callgrind() {
  python3 - "$1" "$2" <<'PY'
import re, sys
seen, lines = set(), []
for line in open(sys.argv[1]):
    match = re.match(r"c?fn=\(\d+\) (.+)", line.rstrip("\n"))
    if not match:
        continue
    name = re.sub(r"'\d+$", "", match.group(1))  # callgrind's recursion-depth suffix
    if name.startswith("0x") or name in seen:  # an address: no symbol
        continue
    seen.add(name)
    lines.append(".text." + name)
with open(sys.argv[2], "w") as out:
    out.write("".join(entry + "\n" for entry in lines))
print(f"layout: {len(lines)} functions -> {sys.argv[2]}", file=sys.stderr)
PY
}
