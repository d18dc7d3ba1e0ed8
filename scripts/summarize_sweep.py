#!/usr/bin/env python3
"""Prints a markdown table of a sweep's report: per concept and method, the alpha
chosen on the select half, and on the report half its success rate, mean edit size
and perplexity next to clean.  Usage: summarize_sweep.py OUT_DIR"""
import csv, sys

d = sys.argv[1]
cells = list(csv.DictReader(open(f"{d}/report.csv")))
summ = list(csv.DictReader(open(f"{d}/report_summary.csv")))
by = {(c["concept"], c["method"], c["mode"], float(c["alpha"] or 0)): c for c in cells}
def f(x, p=3):
    return "n/a" if x in ("", None) else f"{float(x):.{p}f}"
print("| concept | method | alpha (select half) | success (report half) | clean success | edit size | perplexity | clean perplexity | best success within 1 nat | frontier area |")
print("|---|---|---|---|---|---|---|---|---|---|")
for s in summ:
    a = float(s["selected_alpha"] or 0)
    mode = "clean" if s["selected_alpha"] == "0" and s["method"] != "prompting" else "edit"
    c = by.get((s["concept"], s["method"], "edit", a))
    edit = c["report_edit_size"] if c else ("0" if mode == "clean" else "")
    label = f"{a:g}" if c else "clean"
    print(f"| {s['concept']} | {s['method']} | {label} | {f(s['report_success'])} | {f(s['report_clean_success'])} | "
          f"{f(edit)} | {f(s['report_fluency'], 2)} | {f(s['report_clean_fluency'], 2)} | "
          f"{f(s['best_success_within_tol'])} | {f(s['frontier_area'])} |")
