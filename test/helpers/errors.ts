// The one way tests assert a user-facing error: it must be an EvalpredError (never a raw library error or a
// stack trace) whose message matches every pattern given. Returns the error for further checks.
import assert from 'node:assert/strict';
import { EvalpredError, isEvalpredError } from '../../src/core/errors';

function check(e: unknown, patterns: RegExp[]): EvalpredError {
  assert.ok(isEvalpredError(e), `expected an EvalpredError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  for (const re of patterns) assert.match(e.message, re);
  assert.ok(!e.message.includes('\n    at '), 'a one-paragraph message, not a stack trace');
  return e;
}

/** `fn()` must throw an EvalpredError matching every pattern. */
export function userErrorOf(fn: () => unknown, ...patterns: RegExp[]): EvalpredError {
  try {
    fn();
  } catch (e) {
    return check(e, patterns);
  }
  assert.fail('expected an EvalpredError, but nothing was thrown');
}

/** The promise (or the function's result, awaited) must reject with an EvalpredError matching every pattern. */
export async function rejectsWith(p: Promise<unknown> | (() => unknown), ...patterns: RegExp[]): Promise<EvalpredError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return check(e, patterns);
  }
  assert.fail('expected an EvalpredError, but nothing was thrown');
}
