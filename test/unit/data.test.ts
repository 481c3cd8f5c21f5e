import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Field, Int32, Int64, List, Struct, Table, Utf8, Float64, tableToIPC, vectorFromArray } from 'apache-arrow';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { Dataset, encodeLabel, getField, loadDataset, renderTemplate, requireField } from '../../src/core/data';
import { rejectsWith } from '../helpers/errors';
import { runPython } from '../helpers/python';
import { tempDir } from '../helpers/tempDir';

const tmp = tempDir();
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let counter = 0;
/** A fresh sub-folder per fixture, so tests never see each other's files. */
function dir(): string {
  const d = path.join(tmp, `d${counter++}`);
  fs.mkdirSync(d);
  return d;
}
function write(file: string, content: string | Uint8Array | ArrayBuffer): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content instanceof ArrayBuffer ? new Uint8Array(content) : content);
  return file;
}

// The rows every format must give back unchanged: text with trailing spaces, commas, quotes, newlines and
// non-ASCII; an int64 beyond 2^32; a float; lists of strings and ints (empty too); a SQuAD-style struct.
const ROWS = [
  { id: 'a1', text: "it 's a charming journey . ", label: 1, score: 0.5, big: 2 ** 40, tokens: ['EU', 'rejects'], tags: [3, 0], answers: { text: ['Denver Broncos'], answer_start: [177] } },
  { id: 'b2', text: 'comma, "quoted" and\nnewline', label: 0, score: 1.25, big: -7, tokens: [], tags: [], answers: { text: [], answer_start: [] } },
  { id: 'c3', text: 'ünïcode — 日本語  ', label: 2, score: -3.5, big: 0, tokens: ['a,b', '"q"'], tags: [1, 2], answers: { text: ['x', 'y z'], answer_start: [0, 5] } },
];
const COLUMNS = Object.keys(ROWS[0]);
const CLASS_NAMES = ['negative', 'positive', 'neutral'];
const TAG_NAMES = ['O', 'B-PER', 'I-PER', 'B-ORG'];

// dataset_info.json as `datasets` writes it (features only; the rest does not matter here).
const FEATURES = {
  id: { dtype: 'string', _type: 'Value' },
  text: { dtype: 'string', _type: 'Value' },
  label: { names: CLASS_NAMES, _type: 'ClassLabel' },
  score: { dtype: 'float64', _type: 'Value' },
  big: { dtype: 'int64', _type: 'Value' },
  tokens: { feature: { dtype: 'string', _type: 'Value' }, _type: 'Sequence' },
  tags: { feature: { names: TAG_NAMES, _type: 'ClassLabel' }, _type: 'Sequence' },
  answers: { feature: { text: { dtype: 'string', _type: 'Value' }, answer_start: { dtype: 'int32', _type: 'Value' } }, _type: 'Sequence' },
};

function writeJsonl(file: string): string {
  return write(file, ROWS.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

/** CSV written by Python's csv module (QUOTE_MINIMAL, as pandas' to_csv), list/struct cells as JSON text. */
function writeCsvWithPython(file: string): string {
  const src = writeJsonl(file + '.src.jsonl');
  runPython(
    `import csv, json
rows = [json.loads(l) for l in open(${JSON.stringify(src)}, encoding='utf-8')]
with open(${JSON.stringify(file)}, 'w', newline='', encoding='utf-8') as f:
    w = csv.writer(f, lineterminator='\\n')
    w.writerow(${JSON.stringify(COLUMNS)})
    for r in rows:
        w.writerow([json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v for v in r.values()])`,
    [],
  );
  fs.rmSync(src);
  return file;
}

const LIST = (name: string, element: object) => [
  { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', repetition_type: 'OPTIONAL', ...element },
];
const STRING = { type: 'BYTE_ARRAY', converted_type: 'UTF8' };

/** Parquet in the layout pyarrow/`datasets` use: 3-level LISTs, a struct group, int64 label ids. */
function writeParquet(file: string, kvMetadata?: { key: string; value: string }[]): string {
  const buf = parquetWriteBuffer({
    columnData: [
      { name: 'id', data: ROWS.map((r) => r.id) },
      { name: 'text', data: ROWS.map((r) => r.text) },
      { name: 'label', data: ROWS.map((r) => BigInt(r.label)) },
      { name: 'score', data: ROWS.map((r) => r.score) },
      { name: 'big', data: ROWS.map((r) => BigInt(r.big)) },
      { name: 'tokens', data: ROWS.map((r) => r.tokens) },
      { name: 'tags', data: ROWS.map((r) => r.tags.map(BigInt)) },
      { name: 'answers', data: ROWS.map((r) => r.answers) },
    ],
    schema: [
      { name: 'root', num_children: 8 },
      { name: 'id', repetition_type: 'OPTIONAL', ...STRING },
      { name: 'text', repetition_type: 'OPTIONAL', ...STRING },
      { name: 'label', type: 'INT64', repetition_type: 'OPTIONAL' },
      { name: 'score', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
      { name: 'big', type: 'INT64', repetition_type: 'OPTIONAL' },
      ...LIST('tokens', STRING),
      ...LIST('tags', { type: 'INT64' }),
      { name: 'answers', repetition_type: 'OPTIONAL', num_children: 2 },
      ...LIST('text', STRING),
      ...LIST('answer_start', { type: 'INT32' }),
    ] as never,
    kvMetadata,
  });
  return write(file, buf);
}

function arrowTable(rows: typeof ROWS): Table {
  const strList = () => new List(new Field('item', new Utf8(), true));
  return new Table({
    id: vectorFromArray(rows.map((r) => r.id), new Utf8()),
    text: vectorFromArray(rows.map((r) => r.text), new Utf8()),
    label: vectorFromArray(rows.map((r) => BigInt(r.label)), new Int64()),
    score: vectorFromArray(rows.map((r) => r.score), new Float64()),
    big: vectorFromArray(rows.map((r) => BigInt(r.big)), new Int64()),
    tokens: vectorFromArray(rows.map((r) => r.tokens), strList()),
    tags: vectorFromArray(rows.map((r) => r.tags.map(BigInt)), new List(new Field('item', new Int64(), true))),
    answers: vectorFromArray(
      rows.map((r) => r.answers),
      new Struct([new Field('text', strList(), true), new Field('answer_start', new List(new Field('item', new Int32(), true)), true)]),
    ),
  });
}

/** A `Dataset.save_to_disk` folder: IPC stream shards + state.json + dataset_info.json. */
function writeSavedDataset(d: string, split: string, shards: (typeof ROWS)[]): string {
  const files = shards.map((rows, k) => {
    const name = `data-${String(k).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.arrow`;
    write(path.join(d, name), tableToIPC(arrowTable(rows), 'stream'));
    return { filename: name };
  });
  write(path.join(d, 'state.json'), JSON.stringify({ _data_files: files, _fingerprint: 'abc', _format_columns: null, _format_kwargs: {}, _format_type: null, _output_all_columns: false, _split: split }, null, 2));
  write(path.join(d, 'dataset_info.json'), JSON.stringify({ citation: '', description: '', features: FEATURES, homepage: '', license: '' }, null, 2));
  return d;
}

function allRows(ds: Dataset): unknown[] {
  return Array.from({ length: ds.numRows }, (_, i) => ds.row(i));
}

test('every format gives back the same rows, byte for byte', async () => {
  const d = dir();
  const byColumns = Object.fromEntries(COLUMNS.map((c) => [c, ROWS.map((r) => (r as Record<string, unknown>)[c])]));
  const sources: [string, string][] = [
    ['jsonl', writeJsonl(path.join(d, 'rows.jsonl'))],
    ['json', write(path.join(d, 'rows.json'), JSON.stringify(ROWS, null, 2))],
    ['json', write(path.join(d, 'columns.json'), JSON.stringify(byColumns))],
    ['csv', writeCsvWithPython(path.join(d, 'rows.csv'))],
    ['parquet', writeParquet(path.join(d, 'rows.parquet'))],
    ['arrow', writeSavedDataset(path.join(d, 'saved'), 'validation', [ROWS.slice(0, 2), ROWS.slice(2)])],
  ];
  for (const [format, src] of sources) {
    const ds = await loadDataset(src);
    assert.equal(ds.format, format, src);
    assert.equal(ds.numRows, ROWS.length, src);
    assert.deepEqual(ds.columns, COLUMNS, src);
    assert.deepEqual(allRows(ds), ROWS, `${format}: ${src}`);
  }
});

test('save_to_disk folders: DatasetDict split choice, shards in order, ClassLabel names', async () => {
  const d = dir();
  writeSavedDataset(path.join(d, 'train'), 'train', [ROWS.slice(2)]);
  writeSavedDataset(path.join(d, 'validation'), 'validation', [ROWS.slice(0, 1), ROWS.slice(1)]);
  write(path.join(d, 'dataset_dict.json'), JSON.stringify({ splits: ['train', 'validation'] }));
  const val = await loadDataset(d);
  assert.equal(val.split, 'validation');
  assert.deepEqual(allRows(val), ROWS);
  assert.deepEqual(val.classNames, { label: CLASS_NAMES, tags: TAG_NAMES });
  const train = await loadDataset(d, { split: 'train' });
  assert.equal(train.split, 'train');
  assert.deepEqual(allRows(train), ROWS.slice(2));
  const e = await rejectsWith(loadDataset(d, { split: 'tset' }), /no split "tset"/, /"train", "validation"/);
  assert.equal(e.place.file, d);
});

test('an Arrow stream carries the features in its "huggingface" schema metadata; Parquet too', async () => {
  const d = dir();
  const t = arrowTable(ROWS);
  const meta = JSON.stringify({ info: { features: FEATURES } });
  t.schema.metadata.set('huggingface', meta);
  const arrow = await loadDataset(write(path.join(d, 'x.arrow'), tableToIPC(t, 'stream')));
  assert.deepEqual(arrow.classNames, { label: CLASS_NAMES, tags: TAG_NAMES });
  assert.deepEqual(arrow.row(2), ROWS[2]);
  const pq = await loadDataset(writeParquet(path.join(d, 'x.parquet'), [{ key: 'huggingface', value: meta }]));
  assert.deepEqual(pq.classNames, { label: CLASS_NAMES, tags: TAG_NAMES });
});

test('csv: RFC 4180 quoting, CRLF, BOM, column types inferred from the whole column', async () => {
  const d = dir();
  // Hand-written: quoted commas/quotes/CRLF inside a cell, a trailing-space cell, an empty cell in an int
  // column (pandas: NaN -> missing), "007" (pandas: 7), True/false (bool), one non-number keeps "code" as text.
  const text =
    '\ufeffsentence,n,f,flag,code,tags,,n\r\n' +
    '"a, ""b""\r\nc",1,1,True,1,"[""EU"", ""rejects""]",x,5\r\n' +
    'trailing  ,,2.5,false,x1,[],y,6\r\n' +
    '\r\n' + // blank lines are skipped
    'plain,007,-1e3,TRUE,2,"[1, 2]",z,7\r\n';
  const ds = await loadDataset(write(path.join(d, 'v.csv'), text));
  assert.deepEqual(ds.columns, ['sentence', 'n', 'f', 'flag', 'code', 'tags', 'Unnamed: 6', 'n.1']);
  assert.deepEqual(allRows(ds), [
    { sentence: 'a, "b"\r\nc', n: 1, f: 1, flag: true, code: '1', tags: ['EU', 'rejects'], 'Unnamed: 6': 'x', 'n.1': 5 },
    { sentence: 'trailing  ', n: null, f: 2.5, flag: false, code: 'x1', tags: [], 'Unnamed: 6': 'y', 'n.1': 6 },
    { sentence: 'plain', n: 7, f: -1000, flag: true, code: '2', tags: [1, 2], 'Unnamed: 6': 'z', 'n.1': 7 },
  ]);
  // Line numbers follow records that span lines: row 2 starts on line 6 (BOM line 1, row 0 on 2-3, row 1 on 4, blank 5).
  await rejectsWith(() => requireField(ds, 2, 'tags[5]'), /row 2 \(line 6\)/, /"tags" has 2 items, so "tags\[5\]" does not exist/);
});

test('csv: list/struct cells written as Python literals (pandas to_csv) are parsed back too', async () => {
  const d = dir();
  const rows = [
    { id: 1, tokens: ["it's", 'a "q"', 'back\\slash', 'ünï'], meta: { ok: true, note: null, xs: [1.5, -2] } },
    { id: 2, tokens: [], meta: { ok: false, note: 'tab\there', xs: [] } },
  ];
  const src = write(path.join(d, 'src.json'), JSON.stringify(rows));
  const file = path.join(d, 'py.csv');
  // Python writes the cells with str() of the list/dict, exactly what pandas' to_csv does for object cells.
  runPython(
    `import csv, json
rows = json load placeholder
with open(${JSON.stringify(file)}, 'w', newline='', encoding='utf-8') as f:
    w = csv.writer(f, lineterminator='\\n')
    w.writerow(['id', 'tokens', 'meta'])
    for r in rows:
        w.writerow([r['id'], str(r['tokens']), str(r['meta'])])`.replace('json load placeholder', `json.load(open(${JSON.stringify(src)}, encoding='utf-8'))`),
    [],
  );
  assert.match(fs.readFileSync(file, 'utf8'), /'ok': True, 'note': None/, 'the file really holds Python reprs, not JSON');
  assert.deepEqual(allRows(await loadDataset(file)), rows);
});

test('csv errors: wrong field count and an unclosed quote name the line', async () => {
  const d = dir();
  await rejectsWith(loadDataset(write(path.join(d, 'a.csv'), 'a,b\n1,2\n3,4,5\n')), /a\.csv, line 3: expected 2 fields/, /found 3/);
  await rejectsWith(loadDataset(write(path.join(d, 'b.csv'), 'a,b\n1,2\n"open,3\n4,5\n')), /b\.csv, line 3: a quoted field opened here is never closed/);
  await rejectsWith(loadDataset(write(path.join(d, 'c.csv'), 'a,b\n')), /c\.csv: the dataset has 0 rows/);
});

test('jsonl: blank lines skipped, missing keys read as null, syntax errors name the line', async () => {
  const d = dir();
  const ds = await loadDataset(write(path.join(d, 'v.jsonl'), '{"a": 1, "b": "x"}\n\n{"a": 2}\r\n{"b": "y", "c": [1]}\n'));
  assert.deepEqual(ds.columns, ['a', 'b', 'c']);
  assert.deepEqual(allRows(ds), [
    { a: 1, b: 'x', c: null },
    { a: 2, b: null, c: null },
    { a: null, b: 'y', c: [1] },
  ]);
  const e = await rejectsWith(loadDataset(write(path.join(d, 'bad.jsonl'), '{"a": 1}\n{"a": 2}\n{"a": 3,}\n')), /bad\.jsonl, line 3, column 9: not valid JSON/);
  assert.equal(e.place.line, 3);
  await rejectsWith(loadDataset(write(path.join(d, 'arr.jsonl'), '{"a": 1}\n[1, 2]\n')), /arr\.jsonl, line 2: expected a JSON object/);
  await rejectsWith(loadDataset(write(path.join(d, 'empty.jsonl'), '\n\n')), /empty\.jsonl: the dataset has 0 rows/);
});

test('json errors: uneven columns, wrong shapes, bad syntax with a line', async () => {
  const d = dir();
  await rejectsWith(loadDataset(write(path.join(d, 'u.json'), '{"a": [1, 2], "b": [1]}')), /"a" has 2 values, "b" has 1/);
  await rejectsWith(loadDataset(write(path.join(d, 's.json'), '"hello"')), /expected a JSON array of rows or an object of columns/);
  // V8 gives no position for this one ("Unexpected token '}'"); the reader finds it: line 3, column 9.
  const e = await rejectsWith(loadDataset(write(path.join(d, 'x.json'), '[\n  {"a": 1},\n  {"a": }\n]')), /x\.json, line 3, column 9: not valid JSON/);
  assert.doesNotMatch(e.message, /\{"a": 1\}/, 'no echo of the file content');
  assert.equal(e.place.line, 3);
  await rejectsWith(loadDataset(write(path.join(d, 'e.json'), '[]')), /e\.json: the dataset has 0 rows/);
});

test('loading errors: missing file, corrupt Parquet/Arrow, unknown extension, empty Arrow', async () => {
  const d = dir();
  write(path.join(d, 'validation.jsonl'), '{"a": 1}\n');
  await rejectsWith(loadDataset(path.join(d, 'validaton.jsonl')), /Dataset not found: .*validaton\.jsonl/, /Did you mean ".*validation\.jsonl"\?/);
  const pq = write(path.join(d, 'bad.parquet'), 'this is not parquet at all, not even close');
  await rejectsWith(loadDataset(pq), /bad\.parquet: not a readable Parquet file/);
  await rejectsWith(loadDataset(write(path.join(d, 'bad.arrow'), 'garbage garbage garbage garbage')), /bad\.arrow: not a readable Arrow IPC file/);
  await rejectsWith(loadDataset(write(path.join(d, 'x.xlsx'), 'x')), /unknown dataset format "\.xlsx"/);
  await rejectsWith(loadDataset(write(path.join(d, 'empty.arrow'), tableToIPC(arrowTable([]), 'stream'))), /empty\.arrow: the dataset has 0 rows/);
});

test('plain folders: <split>.<ext> files, validation then test then the only split', async () => {
  const a = dir();
  write(path.join(a, 'train.jsonl'), '{"s": "train"}\n');
  write(path.join(a, 'test.csv'), 's\ntest\n');
  write(path.join(a, 'validation.jsonl'), '{"s": "val-jsonl"}\n');
  writeParquet(path.join(a, 'validation.parquet')); // the typed copy of the same split wins
  const v = await loadDataset(a);
  assert.equal(v.split, 'validation');
  assert.equal(v.format, 'parquet');
  assert.equal((await loadDataset(a, { split: 'train' })).row(0).s, 'train');
  fs.rmSync(path.join(a, 'validation.jsonl'));
  fs.rmSync(path.join(a, 'validation.parquet'));
  assert.equal((await loadDataset(a)).row(0).s, 'test');
  const b = dir();
  write(path.join(b, 'dev.json'), '[{"s": "only"}]');
  assert.equal((await loadDataset(b)).split, 'dev');
  write(path.join(b, 'train.json'), '[{"s": "t"}]');
  await rejectsWith(loadDataset(b), /several splits \("dev", "train"\) and none is named validation or test/, /--split/);
  await rejectsWith(loadDataset(b, { split: 'validation' }), /no split "validation"; the splits are "dev", "train"/);
  await rejectsWith(loadDataset(dir()), /no dataset here/);
});

test('getField and requireField: dotted paths, indices, and errors naming file, row and columns', async () => {
  const d = dir();
  const ds = await loadDataset(writeJsonl(path.join(d, 'v.jsonl')));
  const row = ds.row(0);
  assert.equal(getField(row, 'answers.text[0]'), 'Denver Broncos');
  assert.equal(getField(row, 'answers.answer_start[0]'), 177);
  assert.equal(getField(row, 'tokens[1]'), 'rejects');
  assert.equal(getField(row, 'tokens[2]'), undefined);
  assert.equal(getField(row, 'answers.nope'), undefined);
  assert.equal(getField({ 'a.b': 1, a: { b: 2 } }, 'a.b'), 1, 'a column whose name has a dot wins');
  assert.equal(getField({ a: { b: [{ c: 'deep' }] } }, 'a.b[0].c'), 'deep');
  assert.equal(requireField(ds, 2, 'answers.text[1]'), 'y z');
  let e = await rejectsWith(() => requireField(ds, 1, 'Label'), /v\.jsonl: there is no column "Label"/, /"id", "text", "label"/, /Did you mean "label"\?/);
  assert.deepEqual([e.place.file, e.place.column], [ds.source, 'Label']);
  await rejectsWith(() => requireField(ds, 1, 'answrs.text[0]'), /Did you mean "answers"\?/);
  e = await rejectsWith(() => requireField(ds, 1, 'answers.text[0]'), /v\.jsonl, row 1 \(line 2\): "answers\.text" has 0 items, so "answers\.text\[0\]" does not exist/);
  assert.equal(e.place.row, 1);
  await rejectsWith(() => requireField(ds, 0, 'answers.txt'), /"answers" has no field "txt"; its fields are "text", "answer_start"/);
  await rejectsWith(() => requireField(ds, 0, 'text[0]'), /"text" is a string, not a list/);
  await rejectsWith(() => requireField(ds, 0, 'a[x]'), /not a valid field path/);
  await rejectsWith(() => ds.row(3), /row 3 does not exist; the dataset has 3 rows/);
});

test('renderTemplate fills fields, keeps {{ }} literal, and reports bad templates', async () => {
  const d = dir();
  const ds = await loadDataset(write(path.join(d, 'q.jsonl'), JSON.stringify({ question: 'Who won?', context: 'The Broncos. ', answers: { text: ['Broncos'] }, n: 3, x: null }) + '\n'));
  assert.equal(renderTemplate('question: {question} context: {context}', ds, 0), 'question: Who won? context: The Broncos. ');
  assert.equal(renderTemplate('{{literal}} {answers.text[0]}/{n}}}', ds, 0), '{literal} Broncos/3}');
  assert.equal(renderTemplate('{ question }', ds, 0), 'Who won?');
  await rejectsWith(() => renderTemplate('{question', ds, 0), /character 1: a "\{" is never closed/);
  await rejectsWith(() => renderTemplate('a } b', ds, 0), /character 3: a "\}" has no matching "\{"/);
  await rejectsWith(() => renderTemplate('{}', ds, 0), /does not name a field/);
  await rejectsWith(() => renderTemplate('{questoin}', ds, 0), /no column "questoin"/, /Did you mean "question"\?/);
  await rejectsWith(() => renderTemplate('{x}', ds, 0), /field "x" used in the text template is empty/);
});

test('encodeLabel: ids, bools, names via label2id, floats, lists, and missing values', async () => {
  const d = dir();
  const ds = await loadDataset(write(path.join(d, 'l.jsonl'), '{"label": 1}\n{"label": null}\n'));
  const label2id = { negative: 0, positive: 1 };
  const ctx = { label2id, ds, row: 0, column: 'label' };
  assert.equal(encodeLabel(2, ctx), 2);
  assert.equal(encodeLabel(true, ctx), 1);
  assert.equal(encodeLabel(false, ctx), 0);
  assert.equal(encodeLabel(5n, ctx), 5);
  assert.equal(encodeLabel('positive', ctx), 1);
  assert.equal(encodeLabel(3.75, ctx), 3.75, 'a regression target stays a float');
  assert.deepEqual(encodeLabel([3, 0, 1], ctx), [3, 0, 1]);
  assert.deepEqual(encodeLabel(['positive', 'negative'], ctx), [1, 0]);
  assert.deepEqual(encodeLabel([0, 1.5], ctx), [0, 1.5]);
  await rejectsWith(() => encodeLabel('Positive', ctx), /l\.jsonl, row 0 \(line 1\), label column "label"/, /"negative", "positive"/, /Did you mean "positive"\?/);
  await rejectsWith(() => encodeLabel('positive', { ds, row: 0, column: 'label' }), /config\.json has no label2id/);
  const e = await rejectsWith(() => encodeLabel(ds.row(1).label, { ...ctx, row: 1 }), /l\.jsonl, row 1 \(line 2\), label column "label": the label is missing/);
  assert.deepEqual([e.place.file, e.place.row, e.place.column], [ds.source, 1, 'label']);
  await rejectsWith(() => encodeLabel(undefined, ctx), /the label is missing/);
  await rejectsWith(() => encodeLabel([1, null], ctx), /item 1 of the label list is missing/);
  await rejectsWith(() => encodeLabel({ text: ['a'] }, ctx), /the label is a struct/, /label\.text/);
});
