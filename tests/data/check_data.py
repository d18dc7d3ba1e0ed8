#!/usr/bin/env python3
"""Check interv's data folder; exit 1 listing every violation.

Checks: the prompt CSV layout (DESIGN.md section 3) and that no prompt names any
concept surface form; every concept's pairs file (>= 80 pairs, positive names the
concept, negative does not and brings in no other concept, lengths matched);
concepts.json; corpus sizes and shape; the judge template.
With --regen it also rebuilds everything from scripts/ into a temporary folder and
requires byte-identical files, so the committed data matches its generators.
Standard library only. Usage: python3 tests/data/check_data.py [--regen] [REPO_ROOT]
"""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

MIN_CATS, MIN_PROMPTS, MIN_PAIRS, MIN_CONCEPTS = 6, 24, 80, 8
REQUIRED = ["dog", "cat", "ball", "bird", "tree", "cake", "park", "sun"]
PROMPT_HEADER = ["", "Home", "Park", "School", "Animals", "Food", "Adventure"]
CORPUS_MIN, HELDOUT_RANGE = 1_500_000, (100_000, 250_000)

errors = []


def err(msg):
    errors.append(msg)


def matcher(forms):
    """Whole-word, case-insensitive, like src/eval/success.c: a letter or digit on either side breaks a match."""
    alt = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.compile(r"(?<![A-Za-z0-9])(?:%s)(?![A-Za-z0-9])" % alt, re.IGNORECASE)


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f, strict=True))


def check_concepts(data):
    path = os.path.join(data, "concepts.json")
    with open(path, encoding="utf-8") as f:
        idx = json.load(f)
    if len(idx) < MIN_CONCEPTS:
        err("%s: %d concepts, need >= %d" % (path, len(idx), MIN_CONCEPTS))
    for c in REQUIRED:
        if c not in idx:
            err("%s: concept %r missing" % (path, c))
    match = {}
    for c, e in idx.items():
        forms = e.get("forms")
        if not forms or not all(isinstance(x, str) and re.fullmatch(r"[a-z]+", x) for x in forms):
            err("%s: %s: forms must be a non-empty list of lower-case words" % (path, c))
            continue
        if c not in forms:
            err("%s: %s: forms must include the concept itself" % (path, c))
        if not os.path.isfile(os.path.join(data, e.get("pairs", ""))):
            err("%s: %s: pairs file %r not found" % (path, c, e.get("pairs")))
        match[c] = matcher(forms)
    return idx, match


def check_pairs(data, idx, match):
    counts = {}
    for c, e in idx.items():
        path = os.path.join(data, e["pairs"])
        if c not in match or not os.path.isfile(path):
            continue
        rows = read_csv(path)
        if not rows or rows[0] != ["pos_prompt", "neg_prompt"]:
            err("%s: header must be pos_prompt,neg_prompt" % path)
            continue
        rows = rows[1:]
        counts[c] = len(rows)
        if len(rows) < MIN_PAIRS:
            err("%s: %d pairs, need >= %d" % (path, len(rows), MIN_PAIRS))
        seen = set()
        for i, row in enumerate(rows, 2):
            where = "%s:%d" % (path, i)
            if len(row) != 2 or not row[0].strip() or not row[1].strip():
                err("%s: need two non-empty cells" % where)
                continue
            pos, neg = row
            if pos in seen:
                err("%s: duplicate positive %r" % (where, pos))
            seen.add(pos)
            if pos == neg:
                err("%s: positive equals negative" % where)
            if not match[c].search(pos):
                err("%s: positive does not name %s: %r" % (where, c, pos))
            if match[c].search(neg):
                err("%s: negative names %s: %r" % (where, c, neg))
            for o, m in match.items():
                if o != c and m.search(neg) and not m.search(pos):
                    err("%s: negative brings in concept %s: %r" % (where, o, neg))
            if abs(len(pos.split()) - len(neg.split())) > 2:
                err("%s: lengths differ by more than 2 words" % where)
    return counts


def check_prompts(data, match):
    path = os.path.join(data, "prompts", "stories.csv")
    rows = read_csv(path)
    if not rows or rows[0] != PROMPT_HEADER:
        err("%s: header must be %r" % (path, ",".join(PROMPT_HEADER)))
        return {}
    cats = rows[0][1:]
    counts = {k: 0 for k in cats}
    seen = set()
    for i, row in enumerate(rows[1:]):
        where = "%s:%d" % (path, i + 2)
        if len(row) != len(rows[0]):
            err("%s: %d cells, header has %d" % (where, len(row), len(rows[0])))
            continue
        if row[0] != str(i):
            err("%s: index %r, expected %d" % (where, row[0], i))
        for cat, p in zip(cats, row[1:]):
            if not p:
                continue
            counts[cat] += 1
            if p != p.strip():
                err("%s: prompt has leading/trailing space: %r" % (where, p))
            if p in seen:
                err("%s: duplicate prompt %r" % (where, p))
            seen.add(p)
            if p.rstrip()[-1:] in ".!?":
                err("%s: prompt ends a sentence, must end mid-sentence: %r" % (where, p))
            for c, m in match.items():
                if m.search(p):
                    err("%s: prompt names concept %s: %r" % (where, c, p))
    if len(cats) < MIN_CATS:
        err("%s: %d categories, need >= %d" % (path, len(cats), MIN_CATS))
    for cat, n in counts.items():
        if n < MIN_PROMPTS:
            err("%s: category %s has %d prompts, need >= %d" % (path, cat, n, MIN_PROMPTS))
    return counts


def check_corpus(data):
    sizes, stories = {}, {}
    for name in ("stories.txt", "heldout.txt"):
        path = os.path.join(data, "corpus", name)
        with open(path, "rb") as f:
            raw = f.read()
        sizes[name] = len(raw)
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            err("%s: not ASCII" % path)
            continue
        paras = text.rstrip("\n").split("\n\n")
        stories[name] = paras
        for i, p in enumerate(paras):
            if not p or "\n" in p or p != p.strip():
                err("%s: story %d is not one non-empty line" % (path, i + 1))
                break
    if sizes.get("stories.txt", 0) < CORPUS_MIN:
        err("corpus/stories.txt: %d bytes, need >= %d" % (sizes.get("stories.txt", 0), CORPUS_MIN))
    lo, hi = HELDOUT_RANGE
    if not lo <= sizes.get("heldout.txt", 0) <= hi:
        err("corpus/heldout.txt: %d bytes, want %d..%d" % (sizes.get("heldout.txt", 0), lo, hi))
    if len(stories) == 2:
        train = set(stories["stories.txt"])
        dup = sum(1 for s in stories["heldout.txt"] if s in train)
        if dup > len(stories["heldout.txt"]) // 100:
            err("corpus/heldout.txt: %d stories also in stories.txt" % dup)
    return sizes, {k: len(v) for k, v in stories.items()}


def check_judge(data):
    path = os.path.join(data, "judge", "coherence.txt")
    with open(path, encoding="utf-8") as f:
        t = f.read()
    for ph in ("{prompt}", "{continuation}"):
        if t.count(ph) != 1:
            err("%s: %s must appear exactly once" % (path, ph))
    if re.search(r"\{(?!prompt\}|continuation\})[^}]*\}", t):
        err("%s: unknown placeholder" % path)
    if not t.rstrip().endswith(":"):
        err("%s: must end with a colon so the next token is the score" % path)
    if "1" not in t or "10" not in t:
        err("%s: must state the 1-10 scale" % path)


def regen(root, data):
    """Rebuild from the generators in a scratch copy and compare bytes."""
    tmp = tempfile.mkdtemp(prefix="interv-data-")
    try:
        shutil.copytree(os.path.join(data, "src"), os.path.join(tmp, "src"))
        py = sys.executable
        subprocess.run([py, os.path.join(root, "scripts", "make_pairs.py"), tmp],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run([py, os.path.join(root, "scripts", "make_corpus.py"),
                        "--outdir", os.path.join(tmp, "corpus")],
                       check=True, stdout=subprocess.DEVNULL)
        for dirpath, _, files in os.walk(tmp):
            for fn in files:
                rel = os.path.relpath(os.path.join(dirpath, fn), tmp)
                if rel.startswith("src" + os.sep):
                    continue
                committed = os.path.join(data, rel)
                with open(os.path.join(tmp, rel), "rb") as a:
                    new = a.read()
                if not os.path.isfile(committed):
                    err("regen: %s is generated but missing from data/" % rel)
                    continue
                with open(committed, "rb") as b:
                    if b.read() != new:
                        err("regen: data/%s differs from what the generator writes" % rel)
    finally:
        shutil.rmtree(tmp)


def main():
    args = [a for a in sys.argv[1:] if a != "--regen"]
    root = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    data = os.path.join(root, "data")
    try:
        idx, match = check_concepts(data)
        pairs = check_pairs(data, idx, match)
        prompts = check_prompts(data, match)
        sizes, nstories = check_corpus(data)
        check_judge(data)
        if "--regen" in sys.argv[1:]:
            regen(root, data)
    except (OSError, ValueError, csv.Error, subprocess.CalledProcessError) as e:
        err("cannot check: %s" % e)
    if errors:
        for e in errors[:50]:
            print("FAIL " + e)
        print("%d problem(s)" % len(errors))
        return 1
    print("prompts: %d in %d categories (%s)" % (sum(prompts.values()), len(prompts),
          ", ".join("%s %d" % kv for kv in prompts.items())))
    print("pairs: " + ", ".join("%s %d" % kv for kv in pairs.items()))
    print("corpus: " + ", ".join("%s %d bytes %d stories" % (k, sizes[k], nstories.get(k, 0))
                                 for k in sizes))
    print("data ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
