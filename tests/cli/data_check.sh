#!/usr/bin/env bash
# Checks the project's own data (prompts, concept pairs, concepts.json, corpus,
# judge template) with tests/data/check_data.py, requires that the generators in
# scripts/ reproduce the committed files byte for byte, and proves the checker
# fails on planted violations. Needs only plain python3 (standard library).
set -u
cd "$(dirname "$0")/../.."
PY=$(command -v python3 || command -v /usr/bin/python3) || { echo "no python3"; exit 77; }
CHECK=tests/data/check_data.py

"$PY" "$CHECK" --regen . || { echo "data check failed"; exit 1; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0

# Run the checker on a copy of data/ edited by a Python snippet; expect exit 1
# and a message matching $want (or exit 0 when want is "ok").
mutate() {
  local want=$1 code=$2 out rc
  rm -rf "$tmp/d" && mkdir -p "$tmp/d" && cp -r data "$tmp/d/data"
  (cd "$tmp/d" && "$PY" -c "$code") || { echo "mutation setup failed: $want"; fails=$((fails+1)); return; }
  out=$("$PY" "$CHECK" "$tmp/d" 2>&1); rc=$?
  if [ "$want" = ok ]; then
    [ $rc -eq 0 ] || { echo "expected pass, got: $out" | tail -3; fails=$((fails+1)); }
  elif [ $rc -eq 0 ] || ! printf '%s\n' "$out" | grep -q -- "$want"; then
    echo "expected failure '$want', got rc=$rc: $(printf '%s\n' "$out" | tail -2)"; fails=$((fails+1))
  fi
}

SUB='import sys
def sub(path, old, new):
    t = open(path).read()
    assert old in t, (path, old)
    open(path, "w").write(t.replace(old, new, 1))
'
# A prompt naming a concept (plural form, capitalised) is caught.
mutate "names concept dog" "$SUB
sub('data/prompts/stories.csv', 'Lily had a small red', 'Lily had two small Dogs and a red')"
# Whole-word matching: 'Sunday' and 'balloon' are not 'sun' / 'ball'.
mutate ok "$SUB
sub('data/prompts/stories.csv', 'Lily had a small red', 'On Sunday Lily had a red balloon and a')"
# A prompt that ends a sentence is caught.
mutate "must end mid-sentence" "$SUB
sub('data/prompts/stories.csv', 'Lily had a small red', 'Lily had a small red hat.')"
# A negative that names its own concept is caught.
mutate "negative names cat" "$SUB
sub('data/concepts/cat.csv', 'The girl sat on the mat and smiled.', 'The girl sat on the kitten and smiled.')"
# A positive that does not name its concept is caught.
mutate "positive does not name tree" "$SUB
sub('data/concepts/tree.csv', 'Tom climbed up the big tree to see', 'Tom climbed up the big hill to see')"
# Too few pairs is caught.
mutate "need >= 80" "lines = open('data/concepts/sun.csv').read().splitlines(True)
open('data/concepts/sun.csv', 'w').writelines(lines[:80])"
# A small corpus is caught.
mutate "stories.txt" "t = open('data/corpus/stories.txt').read()
open('data/corpus/stories.txt', 'w').write(t[:1000000])"
# A judge template without its placeholder is caught.
mutate "{continuation}" "$SUB
sub('data/judge/coherence.txt', '{continuation}', 'the text')"

[ $fails -eq 0 ] || { echo "$fails checker self-test(s) failed"; exit 1; }
echo "data ok; checker self-tests ok"
