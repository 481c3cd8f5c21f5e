// "Save as launch configuration": adds (or updates, by name) one configuration in .vscode/launch.json and
// keeps everything else the user wrote, comments included (jsonc-parser edits the text in place). A file
// that does not parse is never rewritten: the caller shows why and the configuration to paste.
// No vscode here: tested under Node (test/unit/launchJson.test.ts).
import { ParseError, applyEdits, modify, parse, printParseErrorCode } from 'jsonc-parser/lib/esm/main.js'; // the ESM build: the UMD one requires its parts dynamically, which a bundle cannot follow

export type LaunchJsonEdit = { text: string; action: 'created' | 'appended' | 'updated' } | { error: string };

const FORMAT = { insertSpaces: true, tabSize: 2, eol: '\n' };

function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}

/** The new launch.json text with `cfg` added (or the entry of the same name replaced); `existing` undefined: no file yet. */
export function addLaunchConfiguration(existing: string | undefined, cfg: Record<string, unknown>, file = '.vscode/launch.json'): LaunchJsonEdit {
  if (existing === undefined || !existing.trim()) {
    return { text: JSON.stringify({ version: '0.2.0', configurations: [cfg] }, null, 2) + '\n', action: 'created' };
  }
  const errors: ParseError[] = [];
  const root: unknown = parse(existing, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length) {
    const e = errors[0];
    return { error: `${file} does not parse (line ${lineOf(existing, e.offset)}: ${printParseErrorCode(e.error)}), so it was left as it is; fix it or add the configuration by hand.` };
  }
  if (typeof root !== 'object' || root === null || Array.isArray(root)) {
    return { error: `${file} is not an object with "configurations", so it was left as it is; add the configuration by hand.` };
  }
  const configurations = (root as { configurations?: unknown }).configurations;
  if (configurations !== undefined && !Array.isArray(configurations)) {
    return { error: `${file}: "configurations" is not a list, so the file was left as it is; add the configuration by hand.` };
  }
  if (configurations === undefined) {
    return { text: applyEdits(existing, modify(existing, ['configurations'], [cfg], { formattingOptions: FORMAT })), action: 'appended' };
  }
  const same = configurations.findIndex((c) => typeof c === 'object' && c !== null && (c as { name?: unknown }).name === cfg.name);
  if (same >= 0) return { text: applyEdits(existing, modify(existing, ['configurations', same], cfg, { formattingOptions: FORMAT })), action: 'updated' };
  return {
    text: applyEdits(existing, modify(existing, ['configurations', configurations.length], cfg, { formattingOptions: FORMAT, isArrayInsertion: true })),
    action: 'appended',
  };
}
