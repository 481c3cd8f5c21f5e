import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'jsonc-parser/lib/esm/main.js';
import { addLaunchConfiguration } from '../../src/extension/launchJson';

const cfg = { type: 'evalpred', request: 'launch', name: 'EvalPred: t5 on squad.jsonl', model: '${workspaceFolder}/t5', dataset: '${workspaceFolder}/squad.jsonl', predictWithGenerate: true };

test('launch.json: appended to a file with comments and trailing commas, the user configurations and comments kept', () => {
  const existing = `{
  // my launch file
  "version": "0.2.0",
  "configurations": [
    /* python first */
    { "type": "debugpy", "request": "launch", "name": "train", "program": "train.py", },
  ],
}
`;
  const r = addLaunchConfiguration(existing, cfg);
  assert.ok('text' in r, JSON.stringify(r));
  assert.equal(r.action, 'appended');
  assert.match(r.text, /\/\/ my launch file/);
  assert.match(r.text, /\/\* python first \*\//);
  const parsed = parse(r.text, [], { allowTrailingComma: true });
  assert.deepEqual(parsed.configurations.map((c: { name: string }) => c.name), ['train', cfg.name]);
  assert.deepEqual(parsed.configurations[1], cfg);
  // saving the same run again updates its entry instead of adding a second one
  const again = addLaunchConfiguration(r.text, { ...cfg, generationMaxLength: 64 });
  assert.ok('text' in again && again.action === 'updated');
  const p2 = parse(again.text, [], { allowTrailingComma: true });
  assert.equal(p2.configurations.length, 2);
  assert.equal(p2.configurations[1].generationMaxLength, 64);
  assert.match(again.text, /\/\/ my launch file/);
});

test('launch.json: created when missing; an unparsable or odd file is refused with the reason, never rewritten', () => {
  const created = addLaunchConfiguration(undefined, cfg);
  assert.ok('text' in created && created.action === 'created');
  assert.deepEqual(JSON.parse(created.text), { version: '0.2.0', configurations: [cfg] });
  const broken = addLaunchConfiguration('{\n  "configurations": [\n    { "name": "x" \n  ]\n}', cfg, '/w/.vscode/launch.json');
  assert.ok('error' in broken);
  assert.match(broken.error, /\/w\/\.vscode\/launch\.json does not parse \(line \d+: \w+\).*left as it is/);
  const notList = addLaunchConfiguration('{"configurations": {}}', cfg);
  assert.ok('error' in notList && /"configurations" is not a list/.test(notList.error));
  const arr = addLaunchConfiguration('[]', cfg);
  assert.ok('error' in arr);
  // no configurations key yet: added, other keys kept
  const noKey = addLaunchConfiguration('{ "version": "0.2.0", "compounds": [] }', cfg);
  assert.ok('text' in noKey);
  const p = JSON.parse(noKey.text);
  assert.deepEqual(p.compounds, []);
  assert.deepEqual(p.configurations, [cfg]);
});
