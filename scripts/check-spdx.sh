#!/bin/sh
# SPDX-License-Identifier: MIT
# Every source file carries an SPDX line in its first five lines ("SPDX-License-Identifier: MIT" in a
# comment): C and headers, Python, shell scripts (by extension or shebang), CMake files and
# templates, Makefiles, TOML. Files from any branch are covered: the list is git's (tracked and
# untracked, not ignored) or, outside a checkout, every file under the tree.
# Usage: check-spdx.sh [SOURCE_DIR]. Prints the files without it and "N passed, N failed".
set -eu
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"
list=$(mktemp)
trap 'rm -f "$list"' EXIT
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files --cached --others --exclude-standard > "$list"
else
  find . -type f ! -path './.git/*' ! -path './build*' | sed 's|^\./||' > "$list"
fi
passed=0
failed=0
while IFS= read -r f; do
  [ -f "$f" ] || continue
  case "$f" in
    *.c | *.h | *.cc | *.cpp | *.hpp | *.py | *.pyi | *.sh | *.cmake | *.in | *.mk | *.toml | \
      CMakeLists.txt | */CMakeLists.txt | Makefile | */Makefile) ;;
    *.md | *.png | *.txt | *.json | *.pb | *.onnx | LICENSE | .gitignore | */.gitignore) continue ;;
    *) head -c 2 "$f" | grep -q '^#!' || continue ;; # other files: only scripts
  esac
  if head -n 5 "$f" | grep -q 'SPDX-License-Identifier: MIT'; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "no SPDX line: $f"
  fi
done < "$list"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
