// Data printed to a terminal (label names from config.json, dataset text, file names in errors) may hold
// control characters; written raw, an ANSI escape in an id2label recolours or rewrites the user's terminal.
// They are shown as visible escapes instead (`\x1b[31m`), so the output says what the data holds.

// C0 controls except tab and newline, DEL, C1 controls, and the Unicode line/paragraph separators.
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]/g;

/** `s` with every control character but tab and newline replaced by a visible \xNN / \uNNNN escape. */
export function printable(s: string): string {
  return s.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
