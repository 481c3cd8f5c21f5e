// Reading a dataset file, with file-system errors turned into one-paragraph EvalpredErrors.
import fs from 'node:fs';
import { EvalpredError, messageOf } from '../errors';
import { jsonErrorOffset } from './jsonLocate';

export function readBytes(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new EvalpredError(`${file}: cannot read the dataset file (${messageOf(e)}).`, { file }, { cause: e });
  }
}

/** UTF-8 text without a byte-order mark (pandas and `datasets` drop it too). */
export function readText(file: string): string {
  const text = readBytes(file).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Where a JSON.parse error points, as "line L, column C" within `text`, when the message gives a position. */
export function jsonErrorWhere(e: unknown, text: string): { line: number; col: number } | undefined {
  const m = /position (\d+)/.exec(messageOf(e));
  const pos = m ? Number(m[1]) : jsonErrorOffset(text);
  if (pos < 0) return undefined;
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return { line, col: pos - before.lastIndexOf('\n') };
}

/** JSON.parse's message without V8's echo of (a snippet of) the input. */
export function jsonErrorReason(e: unknown): string {
  return messageOf(e).replace(/ in JSON at position \d+[\s\S]*$/, '').replace(/, (\.\.\.)?"[\s\S]*$/, '');
}
