#!/bin/bash
# check-doc-links.sh: every repository path a README or a Documentation page names exists: markdown link targets,
# and `code spans` that start with a top-level directory (Sources/, Tests/, scripts/, ...) or name a source file
# (.swift, .sh, .c, .md, ...), found from the document's folder or the repository root. URLs and paths outside the
# repository (/proc, /run, ...) are not checked. Run from `make check-docs` (part of `make unit-test` and `test`).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 - <<'PY'
import os, re, subprocess, sys
docs = subprocess.run(["git", "ls-files", "*.md"], capture_output=True, text=True, check=True).stdout.split()
roots = ("Sources/", "Tests/", "scripts/", "Documentation/", ".ci/", ".github/")
source = re.compile(r"\.(swift|sh|c|h|order|py|md)$")  # .proto and .json name upstream files too: not checked
missing = []
for doc in docs:
    base = os.path.dirname(doc)
    for number, line in enumerate(open(doc, encoding="utf-8").read().splitlines(), 1):
        for target in re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", line):
            if re.match(r"[a-z]+:", target):
                continue
            if not os.path.exists(os.path.join(base, target)):
                missing.append(f"{doc}:{number}: link {target}")
        for target in re.findall(r"`([^`\s]+)`", line):
            target = re.sub(r":\d+(-\d+)?$", "", target.rstrip(".,;"))
            if target.startswith("/") or re.search(r"[*<>$]|[a-z]+://", target):
                continue
            if not (target.startswith(roots) or source.search(target)):
                continue
            # A path as the reader meets it: from the document's folder, or from the repository's root.
            if not any(os.path.exists(p) for p in (os.path.join(base, target), target)):
                missing.append(f"{doc}:{number}: {target}")
if missing:
    print("check-doc-links: paths named in the documentation that do not exist:", file=sys.stderr)
    print("\n".join("  " + m for m in missing), file=sys.stderr)
    sys.exit(1)
print(f"check-doc-links: {len(docs)} documents, every path they name exists")
PY
