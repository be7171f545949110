// Parses PowerShell files with tree-sitter-powershell and reports every ERROR or MISSING node.
// Usage: node check.mjs FILE...   Prints "PASS syntax FILE" or "FAIL syntax FILE: line:col ..." per file.
import { Parser, Language } from 'web-tree-sitter';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
await Parser.init();
const language = await Language.load(require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm'));
const parser = new Parser();
parser.setLanguage(language);

function problems(node, found) {
  if (node.isMissing) found.push(`${node.startPosition.row + 1}:${node.startPosition.column + 1} missing ${node.type}`);
  else if (node.type === 'ERROR') found.push(`${node.startPosition.row + 1}:${node.startPosition.column + 1} unexpected '${node.text.slice(0, 40).replace(/\s+/g, ' ')}'`);
  if (!node.hasError && !node.isMissing) return found;
  for (let i = 0; i < node.childCount; i++) problems(node.child(i), found);
  return found;
}

let failed = 0;
for (const file of process.argv.slice(2)) {
  const tree = parser.parse(readFileSync(file, 'utf8'));
  const found = problems(tree.rootNode, []);
  if (found.length === 0) console.log(`PASS syntax ${file}`);
  else { failed++; console.log(`FAIL syntax ${file}: ${found.slice(0, 5).join('; ')}`); }
}
process.exit(failed === 0 ? 0 : 1);
