import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_FLAGS } from '../../src/cli/runFlags';
import { inLaunchTerms } from '../../src/core/runtime/launchSettings';

test('errors shown in VS Code name launch attributes where the CLI names flags', () => {
  const cli = 'squad.jsonl: without --predict-with-generate a seq2seq model is evaluated by teacher forcing, which needs targets: pass --label-column (the target text column).';
  assert.equal(
    inLaunchTerms(cli),
    'squad.jsonl: without "predictWithGenerate" a seq2seq model is evaluated by teacher forcing, which needs targets: pass "labelColumn" (the target text column).',
  );
  assert.equal(inLaunchTerms('add --generation-max-length or --out here'), 'add "generationMaxLength" or "cache" here');
  // flags that are not launch attributes, and text that only looks like one, stay as they are
  assert.equal(inLaunchTerms('--json and --refresh are CLI-only; a-- b --x-y'), '--json and --refresh are CLI-only; a-- b --x-y');
  // every run flag that is a launch attribute translates (the table is the launch schema's)
  for (const f of RUN_FLAGS) {
    const out = inLaunchTerms(`--${f.name}`);
    if (!['json', 'refresh', 'no-concat', 'max-samples'].includes(f.name)) assert.match(out, /^"\w+"$/, f.name);
  }
});
