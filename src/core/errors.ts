// A user-facing error: one paragraph that names the file, column, row, tensor or line at fault.
// The CLI, the debug adapter and the extension print `message` alone for these (no stack trace);
// anything else that escapes is reported as an internal error with its stack.
import path from 'node:path';

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

/** A one-paragraph reason for an OS error while creating a folder or writing a file (`shown`: the path to name). */
export function describeWriteError(e: unknown, shown: string): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOTDIR':
      return `a part of that path is a file, not a folder (${err.path ?? shown})`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied creating ${err.path ?? shown}`;
    case 'EROFS':
      return `the file system is read-only`;
    case 'ENOSPC':
      return 'the disk is full';
    case 'ENOENT':
      return `the folder ${path.dirname(path.resolve(shown))} does not accept new folders (${err.path ?? shown} could not be created)`;
    default:
      return messageOf(e);
  }
}
