#!/usr/bin/env python3
"""Build the evaluation data of interv from our hand-written sources.

Reads   data/src/prompts.txt       ("## Category" headings, one prompt a line)
        data/src/pairs/<c>.txt     (one pair a line, "[positive|negative]" marks
                                    the words that differ between the two sentences)
Writes  data/prompts/stories.csv   (",Cat1,Cat2,..." then index + one prompt a cell)
        data/concepts/<c>.csv      ("pos_prompt,neg_prompt")
        data/concepts.json         (surface forms and default pairs path per concept)

Plain python3 (standard library only), deterministic: no randomness at all.
Usage: python3 scripts/make_pairs.py [DATA_DIR]   (default: data)
"""
import csv
import json
import os
import re
import sys

# Surface forms matched as whole words, case-insensitively, in continuations.
# Only forms that cannot hide inside unrelated words as whole words ("sun" does
# not match "Sunday"; "ball" does not match "balloon").
FORMS = {
    "dog": ["dog", "dogs", "puppy", "puppies", "doggy", "doggie"],
    "cat": ["cat", "cats", "kitten", "kittens", "kitty", "kitties"],
    "ball": ["ball", "balls"],
    "bird": ["bird", "birds", "birdie", "birdies"],
    "tree": ["tree", "trees"],
    "cake": ["cake", "cakes", "cupcake", "cupcakes"],
    "park": ["park", "parks"],
    "sun": ["sun", "sunny", "sunshine", "sunlight", "sunrise", "sunset"],
}

BRACKET = re.compile(r"\[([^\[\]|]*)\|([^\[\]|]*)\]")


def expand(line, where):
    """'The [dog|girl] ran.' -> ('The dog ran.', 'The girl ran.')"""
    if not BRACKET.search(line):
        raise ValueError("%s: no [positive|negative] mark" % where)
    pos = BRACKET.sub(lambda m: m.group(1), line)
    neg = BRACKET.sub(lambda m: m.group(2), line)
    if "[" in pos or "]" in pos or "|" in pos:
        raise ValueError("%s: unbalanced mark" % where)
    return pos, neg


def source_lines(path):
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.strip()
            if line and not (line.startswith("#") and not line.startswith("## ")):
                yield n, line


def read_prompts(path):
    cats, cur = [], None
    for n, line in source_lines(path):
        if line.startswith("## "):
            cur = (line[3:].strip(), [])
            cats.append(cur)
        elif cur is None:
            raise ValueError("%s:%d: prompt before any ## heading" % (path, n))
        else:
            cur[1].append(line)
    return cats


def write_prompts(cats, path):
    rows = max(len(p) for _, p in cats)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([""] + [c for c, _ in cats])
        for i in range(rows):
            w.writerow([str(i)] + [p[i] if i < len(p) else "" for _, p in cats])


def main():
    data = sys.argv[1] if len(sys.argv) > 1 else "data"
    src = os.path.join(data, "src")
    os.makedirs(os.path.join(data, "prompts"), exist_ok=True)
    os.makedirs(os.path.join(data, "concepts"), exist_ok=True)

    cats = read_prompts(os.path.join(src, "prompts.txt"))
    write_prompts(cats, os.path.join(data, "prompts", "stories.csv"))

    index = {}
    for concept in FORMS:
        path = os.path.join(src, "pairs", concept + ".txt")
        pairs = [expand(line, "%s:%d" % (path, n)) for n, line in source_lines(path)]
        out = os.path.join(data, "concepts", concept + ".csv")
        with open(out, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["pos_prompt", "neg_prompt"])
            w.writerows(pairs)
        # "pairs" is relative to the folder holding concepts.json.
        index[concept] = {"phrase": concept, "forms": FORMS[concept],
                          "pairs": "concepts/%s.csv" % concept}
        print("%-5s %3d pairs -> %s" % (concept, len(pairs), out))

    with open(os.path.join(data, "concepts.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, indent=2)
        f.write("\n")
    print("prompts: %s" % ", ".join("%s %d" % (c, len(p)) for c, p in cats))


if __name__ == "__main__":
    main()
