#!/usr/bin/env bash
# interv report on a hand-made sweep folder: every cell reaches the HTML, the CSV
# and the JSON; the page renders offline in headless Chromium with all charts
# loaded and no script error; and the output folder must be writable.
set -u
: "${INTERV:?}"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
D=$T/sweep; mkdir -p "$D/cells"
echo 'models: [tiny]' > "$D/config.yaml"

# cell FILE MODEL LAYER METHOD CONCEPT ALPHA MODE SUCCESS_EVERY EDIT PPL COH
# writes 6 prompts; success for prompt i when i % SUCCESS_EVERY == 0; COH "null" = no judge
cell() {
  local f=$1; shift
  awk -v model="$1" -v layer="$2" -v method="$3" -v concept="$4" -v alpha="$5" -v mode="$6" \
      -v every="$7" -v edit="$8" -v ppl="$9" -v coh="${10}" 'BEGIN {
    for (i = 0; i < 6; i++) {
      succ = (every > 0 && i % every == 0) ? "true" : "false"
      split_ = (i % 2 == 0) ? "select" : "report"
      if (coh == "null") { c = "null"; jd = "null" }
      else { c = coh + (i % 3) * 0.1; jd = "[0,0,0,0,0,0.2,0.3,0.3,0.1,0.1]" }
      printf "{\"model\":\"%s\",\"layer\":%d,\"method\":\"%s\",\"concept\":\"%s\",\"alpha\":%s,\"mode\":\"%s\",", model, layer, method, concept, alpha, mode
      printf "\"split\":\"%s\",\"prompt_index\":%d,\"category\":\"Travel\",\"prompt\":\"Prompt %d, with \\\"quotes\\\" & <tags>\",", split_, i, i
      printf "\"continuation\":\"%s text %d about the %s\",\"success\":%s,\"target_prob\":%.3f,\"edit_size\":%s,", mode, i, (succ == "true" ? concept : "park"), succ, alpha / 100, edit
      printf "\"perplexity\":%s,\"cont_tokens\":%d,\"coherence\":%s,\"judge_dist\":%s}\n", ppl + i * 0.5, 20 + i, c, jd
    }
  }' > "$D/cells/$f.jsonl"
}
n=0
for concept in dog cat; do
  coh=7.5; [ $concept = cat ] && coh=null
  cell clean-$concept tiny 2 none $concept 0 clean 0 0 4.0 $coh; n=$((n+1))
  cell bn-sae-$concept tiny 2 sae $concept 0 bottleneck 6 0.35 4.6 ${coh/7.5/7.0}; n=$((n+1))
  i=0
  for a in 2 4 8 16; do
    i=$((i+1))
    c2=$coh; c3=$coh
    [ $coh != null ] && c2=$(echo "7.6 - $i * 0.6" | bc) && c3=$(echo "7.4 - $i * 1.2" | bc)
    every=$((5 - i)); [ $every -lt 1 ] && every=1
    cell sae-$concept-$a tiny 2 sae $concept $a edit $every "0.$((i*2))" "$((4 + i))" "$c2"; n=$((n+1))
    cell steer-$concept-$a tiny 2 steer $concept $a edit $((every+1)) "0.$((i*2+1))" "$((4 + 2*i))" "$c3"; n=$((n+1))
  done
done

out=$("$INTERV" report "$D" 2>&1) || { echo "report failed: $out"; exit 1; }
H=$D/report.html
for f in "$H" "$D/report.csv" "$D/report.json" "$D/report_summary.csv"; do
  [ -s "$f" ] || { echo "missing $f"; exit 1; }
done
# Every cell, by id, in the HTML table and in the CSV; counts match.
ids=$(grep -o '<tr><td>tiny_L2_[^<]*' "$H" | sed 's/<tr><td>//' | sort -u)
[ "$(printf '%s\n' "$ids" | grep -c .)" -eq $n ] || { echo "HTML has $(printf '%s\n' "$ids" | grep -c .) cells, expected $n"; exit 1; }
[ "$(($(wc -l < "$D/report.csv") - 1))" -eq $n ] || { echo "report.csv rows != $n"; exit 1; }
for id in $ids; do grep -q "^\"$id\"," "$D/report.csv" || { echo "cell $id missing from report.csv"; exit 1; }; done
for mode in clean bottleneck; do
  for concept in dog cat; do grep -q "_${concept}_a0_${mode}_" <<<"$ids" || { echo "no $mode $concept"; exit 1; }; done
done
for a in 2 4 8 16; do grep -q "_sae_dog_a${a}_edit_" <<<"$ids" || { echo "no sae dog a$a"; exit 1; }; done
# Numbers: clean dog success = 0, sae dog alpha 16 (every prompt) = 1; perplexity
# headline of clean = exp(sum NLL / sum tokens) over perplexities 4.0..6.5.
/usr/bin/python3 - "$D" <<'PY' || exit 1
import json, math, sys
d = json.load(open(sys.argv[1] + "/report.json"))
cells = {(c["method"], c["concept"], c["alpha"], c["mode"]): c for c in d["cells"]}
assert cells[("none", "dog", 0, "clean")]["all"]["success"] == 0
assert cells[("sae", "dog", 16, "edit")]["all"]["success"] == 1
ppl = [4.0 + i * 0.5 for i in range(6)]; tok = [20 + i for i in range(6)]
corpus = math.exp(sum(math.log(p) * t for p, t in zip(ppl, tok)) / sum(tok))
got = cells[("none", "cat", 0, "clean")]["all"]["perplexity"]
assert abs(got - corpus) < 1e-6, (got, corpus)
assert abs(cells[("none", "cat", 0, "clean")]["all"]["perplexity_mean"] - sum(ppl) / 6) < 1e-9
assert cells[("none", "cat", 0, "clean")]["all"]["coherence"] is None  # no judge: null, not invented
assert len(d["summary"]) == 4, len(d["summary"])
for s in d["summary"]:
    assert s["frontier_area"] is not None, s
PY
# Self-contained: no external resources.
if grep -Eq '(src|href)="(https?:|//)' "$H"; then echo "external resource in HTML"; exit 1; fi
nimg=$(grep -o '<img class=chart' "$H" | wc -l)
# 3 per (model, concept) group + 1 cross-concept summary chart for the model
[ "$nimg" -eq 7 ] || { echo "expected 7 charts, found $nimg"; exit 1; }

# Output folder not writable -> clear message, non-zero exit.
if [ "$(id -u)" -ne 0 ]; then
  mkdir "$T/ro"; chmod 555 "$T/ro"
  if "$INTERV" report "$D" --out "$T/ro/r.html" 2>"$T/err"; then echo "unwritable --out accepted"; exit 1; fi
  grep -q "interv report: .*r.html" "$T/err" || { echo "unclear message: $(cat "$T/err")"; exit 1; }
fi
if "$INTERV" report "$D" --out "$T/no/such/dir/r.html" 2>"$T/err"; then echo "missing folder accepted"; exit 1; fi
grep -q "interv report: .*r.html" "$T/err" || { echo "unclear message: $(cat "$T/err")"; exit 1; }
if "$INTERV" report "$T/empty" 2>"$T/err"; then echo "missing DIR accepted"; exit 1; fi

# Headless Chromium: charts load with a size, no script error, nothing fetched.
CHROME=""
for c in chromium chromium-browser google-chrome; do command -v $c >/dev/null && { CHROME=$(command -v $c); break; }; done
if [ -z "$CHROME" ]; then
  if [ "$(id -u)" -eq 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1; then
    CHROME=$(command -v chromium)
  fi
fi
[ -n "$CHROME" ] || { echo "skip: chromium not available"; exit 77; }
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --user-data-dir="$T/profile" --virtual-time-budget=5000)
timeout 60 "$CHROME" "${flags[@]}" --enable-logging=stderr --v=0 --dump-dom "file://$H" >"$T/dom.html" 2>"$T/chrome.log"
grep -q "data-charts-total=\"$nimg\"" "$T/dom.html" || { echo "load marker missing"; tail -5 "$T/chrome.log"; exit 1; }
grep -q "data-charts-ok=\"$nimg\"" "$T/dom.html" || { echo "charts not rendered: $(grep -o 'data-charts-ok="[0-9]*"' "$T/dom.html")"; exit 1; }
if grep -q 'data-error=' "$T/dom.html"; then echo "script error in page"; exit 1; fi
if grep -Ei 'CONSOLE.*(error|Uncaught)|Uncaught ' "$T/chrome.log"; then echo "console error"; exit 1; fi
# A screenshot that is not blank (PNG size well above an empty page's).
timeout 60 "$CHROME" "${flags[@]}" --screenshot="$T/shot.png" --window-size=1700,1400 "file://$H" >/dev/null 2>&1
[ -s "$T/shot.png" ] && [ "$(stat -c %s "$T/shot.png")" -gt 20000 ] || { echo "blank screenshot"; exit 1; }
[ -n "${REPORT_SHOT:-}" ] && cp "$T/shot.png" "$REPORT_SHOT"
echo "ok: $n cells, $nimg charts rendered"
