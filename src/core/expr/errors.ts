// An expression error names the column and shows a caret under it, so a typo in the Debug Console points
// at itself. It is an EvalpredError, so the adapter shows the message alone (no stack trace).
import { EvalpredError } from '../errors';

export class ExprError extends EvalpredError {
  /** 0-based offset into the expression. */
  readonly pos: number;
  constructor(message: string, source: string, pos: number) {
    super(`${message}\n  ${source}\n  ${' '.repeat(Math.max(0, pos))}^`);
    this.name = 'EvalpredError';
    this.pos = pos;
  }
}
