// A user-facing error: one paragraph that names the file, column, row, tensor or line at fault.
// The CLI, the debug adapter and the extension print `message` alone for these (no stack trace);
// anything else that escapes is reported as an internal error with its stack.

export interface ErrorPlace {
  file?: string;
  column?: string;
  row?: number;
  tensor?: string;
  line?: number;
}

export class EvalpredError extends Error {
  readonly place: ErrorPlace;
  constructor(message: string, place: ErrorPlace = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EvalpredError';
    this.place = place;
  }
}

export function isEvalpredError(e: unknown): e is EvalpredError {
  return e instanceof Error && e.name === 'EvalpredError';
}

/** The message of anything thrown, for wrapping library errors into ours. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
