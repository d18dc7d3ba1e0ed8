#!/usr/bin/env python3
"""Writes tests/tok/corpus.txt: the tokenizer test corpus (one text per line).

Deterministic (fixed seed), standard library only.  Every line is our own text
or a random mix of characters chosen to exercise tokenizers: prose, code,
numbers, whitespace runs, contractions, accents and combining marks, CJK,
Arabic/Hebrew, emoji sequences, full-width forms, control characters, and text
that already holds '▁' or special-token strings.  Characters are limited to
Unicode 13 so that utf8proc, PCRE2 and node's ICU agree on their properties.
Usage: make_corpus.py [OUT]   (default: corpus.txt beside this script)
"""
import os
import random
import sys

R = random.Random(20240611)

NOUNS = ("river lantern teacher garden window engine harbor violin pencil mountain "
         "village kettle notebook bridge meadow compass ladder orchard signal blanket "
         "robot planet market ticket mirror castle forest rocket cookie puzzle").split()
VERBS = ("carries paints finds builds watches follows repairs measures borrows hides "
         "opens counts tests writes misses answers crosses shares").split()
ADJS = ("quiet bright narrow ancient clumsy patient golden hollow curious tiny "
        "enormous careful sleepy brave").split()
NAMES = "Mira Tomasz Aiko Oluwaseun Ingrid Rafael Chen Dalia Priya Björn Zoë Anaïs".split()
CONTRACTIONS = ["it's", "don't", "they'll", "I'm", "we've", "she'd", "you're", "can't",
                "IT'S", "DON'T", "We'Re", "HE'LL", "I'D", "o'clock", "rock'n'roll",
                "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'LL",
                "'ſ", "'K"]
SPECIALS = ["<s>", "</s>", "<unk>", "<pad>", "<bos>", "<eos>", "<mask>", "<|endoftext|>",
            "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<start_of_turn>",
            "<end_of_turn>", "<0x41>", "<0xE2>", "<unused5>", "<unused6241>", "[multimodal]",
            "<image_soft_token>", "<|reserved_special_token_3|>", "<s", "s>", "</", "<|", "|>"]
ACCENTED = ["café", "naïve", "Ångström", "Zürich", "São Paulo", "façade", "jalapeño",
            "Dvořák", "Łódź", "Ærøskøbing", "Straße", "İstanbul", "ǅemal", "œuvre",
            "cafe\u0301", "n\u0303o", "A\u030a", "e\u0301\u0302\u0323", "\u0301lone mark",
            "ﬁnance ﬂow", "Ⅻ Ⅳ ½ ² ³", "ℌ ℍ ℕ", "Ω Ω K K", "ﾊﾝｶｸ ｶﾀｶﾅ"]
CJK = ["日本語のテキストです。", "我们今天去公园散步。", "한국어 문장입니다.", "東京タワーは赤い。",
       "天気がいいので、散歩に行きましょう！", "中文，标点。「引号」", "カタカナとひらがな",
       "漢字かな交じり文", "㐀㐁 𠀀𠀁 𪚥"]
RTL = ["مرحبا بالعالم", "السلام عليكم ورحمة الله", "שלום עולם", "עברית היא שפה",
       "العدد ١٢٣٤٥ هنا", "مرحبا hello שלום", "\u200fRTL mark\u200e", "كِتَابٌ مُفِيدٌ"]
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷", "🇯🇵🇺🇸", "1️⃣", "❤️", "🧑‍💻", "🐕‍🦺",
         "👩🏿‍🚀", "✨", "🎉🎉🎉", "☃", "♥︎", "🤖", "🏴‍☠️"]
FULLWIDTH = ["ＡＢＣ１２３！", "ｆｕｌｌ　ｗｉｄｔｈ", "（括弧）", "＃＄％＆", "～〜"]
SPACES = ["\u00a0", "\u2003", "\u3000", "\u2028", "\ufeff", "\u200b", "\u0085", "\u180e",
          "\u202f", "\u205f", "\u1680", "\u2009"]
CONTROLS = ["\x01", "\x07", "\x08", "\x1b[31m", "\x1b[0m", "\x7f", "\r", "\x0b", "\x0c",
            "\x00", "\x1f", "\x80".encode("latin-1").decode("latin-1"), "\u009f"]
CODE = [
    "int main(int argc, char **argv) {",
    "    for (size_t i = 0; i < n; i++) sum += x[i] * w[i];",
    "\treturn 0;",
    "}",
    "def tokenize(text: str) -> list[int]:",
    "        return [vocab.get(w, UNK) for w in text.split()]",
    "const re = /'s|'t| ?\\p{L}+/gu; // not a real pattern",
    "if (a != b && c >= d || !e) { x <<= 2; y >>= 1; }",
    "SELECT name, COUNT(*) FROM users WHERE age > 30 GROUP BY name;",
    "<div class=\"box\" id='main'>Hello &amp; welcome</div>",
    "{\"key\": [1, 2.5, -3e10, null, true], \"s\": \"a\\\"b\"}",
    "#include <stdio.h>",
    "git commit -m \"fix: handle CRLF\" && git push origin main",
    "x = lambda *args, **kw: (args, kw)",
    "fn main() { let v: Vec<u8> = vec![0xFF; 16]; println!(\"{:?}\", v); }",
    "    \t  mixed_indent = True  ",
    "$ echo $HOME | tr '/' '\\n' > out.txt 2>&1",
    "a[i][j] += b[k]->c.d;  /* comment */",
    "http://example.org/path?q=1&r=two#frag",
    "user.name+tag@example.co.uk",
]


def sentence():
    words = []
    for _ in range(R.randint(3, 14)):
        k = R.random()
        if k < 0.45:
            words.append(R.choice(NOUNS))
        elif k < 0.65:
            words.append(R.choice(VERBS))
        elif k < 0.8:
            words.append(R.choice(ADJS))
        elif k < 0.9:
            words.append(R.choice(NAMES))
        else:
            words.append(R.choice(CONTRACTIONS))
    s = " ".join(words)
    s = s[0].upper() + s[1:]
    return s + R.choice([".", "!", "?", "...", ",", ";", ":", " —", ""])


def number():
    k = R.randint(0, 9)
    if k == 0:
        return str(R.randint(0, 10 ** R.randint(1, 18)))
    if k == 1:
        return f"{R.uniform(-1e6, 1e6):.{R.randint(0, 8)}f}"
    if k == 2:
        return f"{R.randint(1900, 2099)}-{R.randint(1, 12):02d}-{R.randint(1, 28):02d}"
    if k == 3:
        return f"{R.randint(1, 999):,}{R.randint(0, 999):03d}".replace(",", R.choice([",", ".", " "]))
    if k == 4:
        return f"+{R.randint(1, 99)} ({R.randint(100, 999)}) {R.randint(1000000, 9999999)}"
    if k == 5:
        return f"{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(0, 255)}"
    if k == 6:
        return f"{R.uniform(0, 1):.3e}"
    if k == 7:
        return "".join(R.choice("0123456789") for _ in range(R.randint(1, 40)))
    if k == 8:
        return f"v{R.randint(0, 9)}.{R.randint(0, 99)}.{R.randint(0, 999)}-rc{R.randint(1, 5)}"
    return R.choice(["٣٤٥", "१२३", "๑๒๓", "①②③", "Ⅷ", "⁴²", "0x1F", "1e-9", "3/4", "50%", "$9.99", "€1.000,50"])


POOL = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        " \t  .,;:!?'\"-_()[]{}<>/\\|@#$%^&*+=~`▁▁éèüßçñøåæœ日本語中文한국ا ل ع ש ל 😀👍🏽🇫🇷‍️"
        "ＡＢ１！ﬁ½²\u0301\u0308\u00a0\u3000\ufeff\u2028\x01\x1b\x7f\r")


def fuzz():
    return "".join(R.choice(POOL) for _ in range(R.randint(1, 80)))


def mixed():
    parts = []
    for _ in range(R.randint(2, 6)):
        parts.append(R.choice([sentence, number, lambda: R.choice(ACCENTED), lambda: R.choice(CJK),
                               lambda: R.choice(RTL), lambda: R.choice(EMOJI), lambda: R.choice(FULLWIDTH),
                               lambda: R.choice(SPECIALS), lambda: R.choice(CONTRACTIONS),
                               lambda: R.choice(CODE)])())
    glue = [" ", "", "  ", "\t", " \t ", R.choice(SPACES), R.choice(CONTROLS), "▁", " ▁ "]
    out = parts[0]
    for p in parts[1:]:
        out += R.choice(glue) + p
    return out


def whitespace():
    ws = [" ", "  ", "   ", "    ", "\t", "\t\t", " \t", "\t ", "▁", "▁▁", " ▁"]
    core = R.choice([sentence, number, lambda: R.choice(CODE), lambda: R.choice(CJK)])()
    words = core.split(" ")
    out = "".join(w + R.choice(ws) for w in words)
    return R.choice(["", " ", "  ", "\t", "    ", " \t "]) + out + R.choice(["", " ", "   ", "\t", " \t"])


def special_mix():
    s = sentence().split(" ")
    for _ in range(R.randint(1, 4)):
        s.insert(R.randint(0, len(s)), R.choice(SPECIALS))
    glue = R.choice([" ", "", "  "])
    return glue.join(s)


def fixed():
    """Hand-written edge cases, each on its own line."""
    return [
        "Hello world", "Hello, world!", " Hello", "Hello ", "  Hello  ", "\tHello\t",
        "a", "A", " ", "  ", "\t", "▁", "▁▁", " ▁", "▁ ", "▁Hello", "Hello▁world", "▁▁▁ ▁▁▁",
        "<s>", "</s>", "<s></s>", " <s> ", "<s>Hello</s>", "x<s>y", "<bos>", "<eos>", "<bos><bos>",
        "<|endoftext|>", " <|endoftext|> ", "a<|endoftext|>b", "<|begin_of_text|>hi<|end_of_text|>",
        "<|begin_of_text|><|begin_of_text|>", "<unk>", "<pad>", "<0x41>", "<0x41><0x42>", "<|eot_id|>",
        "<start_of_turn>user", "<end_of_turn>", "<unused0> <unused1>", "[multimodal]",
        "it's", "It's", "IT'S", "it'S", "don't", "'s", "'ſ", "'K", "y'all'd've", "''", "'", "'''s",
        "can't won't shan't", "rock 'n' roll", "O'Neil's", "l'homme d'affaires",
        "café", "cafe\u0301", "Cafe\u0301 \u0301", "e\u0301", "\u0301", "\u0301\u0301\u0301",
        "ﬁ", "½", "①", "Å", "Å", "Ω", "K", "ǅ", "ẞ", "ſ", "İ", "ı",
        "日本", "日本語", "𠀀", "😀", "👨‍👩‍👧‍👦", "🇫🇷🇩🇪", "🏳️‍🌈", "1️⃣", "👍🏽", "‍", "️",
        "مرحبا", "שלום", "ＡＢＣ", "\u3000", "\u00a0", "\ufeff", "\ufeffHello", "\u2028", "a\u2028b",
        "\u0085", "a\u0085b", "\u180e", "\u200b", "x\u200by",
        "\x01", "\x7f", "\x1b[31mred\x1b[0m", "\r", "a\rb", "\r\r", "\x0b\x0c", "\x00", "a\x00b",
        "12345678901234567890", "3.14159", "1,000,000", "-0.5e-10", "٣٤٥", "१२३", "Ⅻ",
        "    ", "        indented", "\t\t\ttabs", "trailing    ", "a  b   c    d",
        "a\tb\t\tc", "\n" if False else "no newline", "   \t   \t", " \u00a0 ", "!!!", "???", "...",
        "—", "–", "…", "“quotes”", "‘single’", "«guillemets»", "#hashtag", "@mention", "$$$",
        "a" * 300, "ab" * 200, " " * 100, "▁" * 50, "😀" * 40, "日" * 100, "x " * 150,
        "The quick brown fox jumps over the lazy dog.",
        "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG!",
        "Supercalifragilisticexpialidocious antidisestablishmentarianism",
        "pneumonoultramicroscopicsilicovolcanoconiosis",
    ]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus.txt")
    lines = fixed()
    makers = [(sentence, 1400), (mixed, 1200), (whitespace, 600), (special_mix, 400),
              (number, 400), (fuzz, 700), (lambda: R.choice(CODE), 150),
              (lambda: R.choice(ACCENTED) + " " + sentence(), 150),
              (lambda: R.choice(CJK) + R.choice(["", " ", "。"]) + R.choice(CJK), 100),
              (lambda: R.choice(RTL) + " " + number(), 80),
              (lambda: "".join(R.choice(EMOJI) for _ in range(R.randint(1, 6))), 100)]
    for fn, count in makers:
        lines.extend(fn() for _ in range(count))
    # the corpus is line-based: no newline may occur inside a text
    lines = [ln.replace("\n", " ") for ln in lines]
    with open(out, "w", encoding="utf-8", newline="") as f:
        for ln in lines:
            f.write(ln + "\n")
    print(f"{out}: {len(lines)} lines")


if __name__ == "__main__":
    main()
