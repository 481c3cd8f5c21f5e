// The number formats people read (src/shared/format.ts), shared by the CLI, the extension and the webview.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCompact, formatDecimal, formatDelta } from '../../src/shared/format';

test('formatDecimal: integers as they are, 4 decimals in [1e-3, limit), exponent outside, non-finite as JS writes it', () => {
  assert.equal(formatDecimal(3), '3');
  assert.equal(formatDecimal(0.81314), '0.8131');
  assert.equal(formatDecimal(0.0005), '5.000e-4');
  assert.equal(formatDecimal(123456.5), '123456.5000');
  assert.equal(formatDecimal(1234567.5), '1.235e+6');
  assert.equal(formatDecimal(12345.5, 1e4), '1.235e+4'); // the CLI's narrow statistics columns
  assert.equal(formatDecimal(NaN), 'NaN');
  assert.equal(formatDecimal(-Infinity), '-Infinity');
});

test('formatCompact and formatDelta: 4 significant digits, 2-digit exponent outside [1e-3, 1e5), a dash for nothing', () => {
  assert.equal(formatCompact(0.812345), '0.8123');
  assert.equal(formatCompact(2.5e-4), '2.50e-4');
  assert.equal(formatCompact(123456.7), '1.23e+5');
  assert.equal(formatCompact(42), '42');
  assert.equal(formatCompact(null), '—');
  assert.equal(formatCompact(NaN), '—');
  assert.equal(formatDelta(0.03), '+0.03');
  assert.equal(formatDelta(-0.5), '-0.5');
  assert.equal(formatDelta(0), '±0');
});
