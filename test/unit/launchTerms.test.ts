import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_FLAGS } from '../../src/cli/runFlags';
import fs from 'node:fs';
import path from 'node:path';
import { inLaunchTerms, LAUNCH_EXTRA_FIELDS, OPTION_NAMES, RUN_SETTINGS_FIELDS } from '../../src/core/runtime/launchSettings';

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
    if (!['json', 'refresh', 'no-concat', 'no-pad-to-max-length', 'max-samples'].includes(f.name)) assert.match(out, /^"\w+"$/, f.name);
  }
});

test('one table names each option on both front ends: every run flag with a launch attribute, every attribute in the launch schema', () => {
  const cliOnly = new Set(['--json', '--refresh']);
  const flags = RUN_FLAGS.map((f) => `--${f.name}`);
  const table = new Map(OPTION_NAMES.map((o) => [o.flag, o]));
  for (const f of flags) if (!cliOnly.has(f)) assert.ok(table.has(f), `${f} has a launch attribute in OPTION_NAMES`);
  for (const o of OPTION_NAMES) {
    assert.ok(flags.includes(o.flag), `${o.flag} is an evalpred run flag`);
    assert.ok(o.attribute in RUN_SETTINGS_FIELDS || o.attribute in LAUNCH_EXTRA_FIELDS, `${o.attribute} is a launch attribute`);
  }
  const pkg: unknown = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../package.json'), 'utf8'));
  const schema = (pkg as { contributes: { debuggers: { configurationAttributes: { launch: { properties: Record<string, unknown> } } }[] } }).contributes.debuggers[0].configurationAttributes.launch.properties;
  for (const o of OPTION_NAMES) assert.ok(o.attribute in schema, `${o.attribute} in package.json's launch schema`);
  assert.equal(inLaunchTerms('rerun with --no-concat'), 'rerun with "evalDoConcatBatches": false');
  assert.equal(inLaunchTerms('with --no-pad-to-max-length and --version-2-with-negative'), 'with "padToMaxLength": false and "version2WithNegative"');
  assert.equal(inLaunchTerms('lower --memory-limit-mb or --max-samples'), 'lower "metricMemoryLimitMb" or "maxSamples"');
});

test('every flag a message in src/core names is in the table, or one the CLI alone has (those stay flags everywhere)', () => {
  // Flags of other commands or programs, named only in messages of those commands (never shown by VS Code as a run's).
  const elsewhere = new Set(['--series', '--log-history', '--depth', '--max-old-space-size', '--cache']);
  const known = new Set(OPTION_NAMES.map((o) => o.flag));
  const root = path.join(__dirname, '../../../src/core');
  const unknown: string[] = [];
  const seen = new Set<string>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        const code = fs.readFileSync(p, 'utf8').split('\n').filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l)).join('\n');
        for (const m of code.matchAll(/(?<![\w-])--[a-z][a-z0-9]*(?:-[a-z0-9]+)*\b/g)) {
          seen.add(m[0]);
          if (!known.has(m[0]) && !elsewhere.has(m[0])) unknown.push(`${path.relative(root, p)}: ${m[0]}`);
        }
      }
    }
  };
  walk(root);
  for (const f of ['--label-column', '--predict-with-generate', '--max-samples', '--text-template']) assert.ok(seen.has(f), `the scan sees ${f}`);
  assert.deepEqual(unknown, [], 'flags named in src/core messages that VS Code could not put in launch words');
});
