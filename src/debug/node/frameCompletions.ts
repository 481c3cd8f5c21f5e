// Debug Console completions while a TS/JS metric is paused on a line (DAP `completions`; README "Debug
// Console"): the names in scope at the selected frame (locals first, then closures, the module, globals), and
// after a dot the properties of what stands before it, own and inherited, as the Node inspector sees them.
// What stands before the dot is evaluated with throwOnSideEffect, as js-debug does: a getter or call that would
// change anything is refused and completes nothing, so completing never runs the user's code for effect. The
// boundary's completions (no paused frame) are ../completions.ts.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { CdpSocket } from './cdpSocket';

/** What the cursor completes: a name (`word` alone), or a member of `object` (`object.word`). */
export interface CompletionTarget {
  object?: string;
  word: string;
}

const IDENTIFIER_END = /[A-Za-z_$][\w$]*$/;

/**
 * The completion target at the end of `before` (the line's text before the cursor), or undefined where nothing
 * completes (after a number's decimal point, an unbalanced bracket, a dot with nothing before it).
 */
export function completionTarget(before: string): CompletionTarget | undefined {
  const word = IDENTIFIER_END.exec(before)?.[0] ?? '';
  const rest = before.slice(0, before.length - word.length);
  if (/[\w$]$/.test(rest)) return undefined; // inside a number (`10.5`, `1abc`)
  if (!rest.endsWith('.')) return { word };
  const end = rest.endsWith('?.') ? rest.length - 2 : rest.length - 1;
  if (/(?:^|[^\w$.])\d+$/.test(rest.slice(0, end))) return undefined; // `1.`: a decimal point
  let depth = 0;
  let i = end - 1;
  for (; i >= 0; i--) {
    const c = rest[i];
    if (c === ')' || c === ']' || c === '}') depth++;
    else if (c === '(' || c === '[' || c === '{') {
      if (depth === 0) break;
      depth--;
    } else if (depth > 0) {
      if (c === '"' || c === "'" || c === '`') {
        const open = rest.lastIndexOf(c, i - 1);
        if (open < 0) return undefined;
        i = open;
      }
    } else if (!/[\w$.]/.test(c) && !(c === '?' && rest[i + 1] === '.')) break;
  }
  const object = rest.slice(i + 1, end).trim();
  if (depth !== 0 || !object || object.startsWith('.')) return undefined;
  return { object, word };
}

interface RemoteObject {
  type: string;
  subtype?: string;
  description?: string;
  objectId?: string;
}
interface PropertyDescriptor {
  name: string;
  value?: RemoteObject;
  get?: RemoteObject;
  isOwn?: boolean;
}
interface Scope {
  type: string;
  object: RemoteObject;
}

const GROUP = 'evalpred-completions';
const VALID_MEMBER = /^[A-Za-z_$][\w$]*$/;
/** Words a console line starts with that no scope lists. */
const KEYWORDS = ['await', 'const', 'false', 'let', 'new', 'null', 'this', 'true', 'typeof', 'undefined', 'void'];

function kindOf(v: RemoteObject | undefined, member: boolean): DebugProtocol.CompletionItemType {
  if (v?.type === 'function') return v.description?.startsWith('class ') ? 'class' : member ? 'method' : 'function';
  return member ? 'property' : 'variable';
}

/**
 * Completions for the word before `column` (1-based) of `line` (1-based) in `text`, in the paused call frame
 * `callFrameId` whose scopes are `scopeChain`. Each item replaces that word: `start` is 0-based in the line.
 */
export async function frameCompletions(
  cdp: CdpSocket,
  frame: { callFrameId: string; scopeChain: Scope[] },
  text: string,
  column: number,
  line = 1,
): Promise<DebugProtocol.CompletionItem[]> {
  const lineText = text.split(/\r?\n/)[line - 1] ?? '';
  const before = lineText.slice(0, Math.max(0, column - 1));
  const target = completionTarget(before);
  if (!target) return [];
  const start = before.length - target.word.length;
  try {
    const items = target.object ? await members(cdp, frame.callFrameId, target.object) : await names(cdp, frame.scopeChain);
    const seen = new Set<string>();
    return items
      .filter((i) => i.label.startsWith(target.word) && !seen.has(i.label) && seen.add(i.label))
      .map((i) => ({ ...i, start, length: target.word.length }));
  } finally {
    await cdp.send('Runtime.releaseObjectGroup', { objectGroup: GROUP }).catch(() => undefined);
  }
}

/** The names each scope of the frame holds, innermost first (sortText keeps that order), then keywords. */
async function names(cdp: CdpSocket, scopeChain: Scope[]): Promise<DebugProtocol.CompletionItem[]> {
  const out: DebugProtocol.CompletionItem[] = [];
  for (const [k, scope] of scopeChain.entries()) {
    if (!scope.object.objectId) continue;
    const props = await cdp.send<{ result: PropertyDescriptor[] }>('Runtime.getProperties', {
      objectId: scope.object.objectId,
      ownProperties: true,
      nonIndexedPropertiesOnly: true,
    });
    for (const p of props.result) {
      if (!VALID_MEMBER.test(p.name)) continue;
      out.push({ label: p.name, type: kindOf(p.value, false), sortText: `${String(k).padStart(2, '0')}${p.name}` });
    }
  }
  for (const w of KEYWORDS) out.push({ label: w, type: 'keyword', sortText: `99${w}` });
  return out;
}

/** A wrapper of each primitive type, for its members ("abc".length, (1.5).toFixed): the same for any value. */
const WRAPPER: Record<string, string> = { string: 'Object("")', number: 'Object(0)', boolean: 'Object(false)', bigint: 'Object(0n)' };
const DOTTED = /^[A-Za-z_$][\w$]*(?:\s*\??\.\s*[A-Za-z_$][\w$]*)*$/;

/** Properties of `object` in the frame, own ones first, then inherited; nothing that would run code for effect. */
async function members(cdp: CdpSocket, callFrameId: string, object: string): Promise<DebugProtocol.CompletionItem[]> {
  let value = await resolve(cdp, callFrameId, object);
  if (value && !value.objectId && WRAPPER[value.type]) value = await evaluateSafely(cdp, callFrameId, WRAPPER[value.type]);
  if (!value?.objectId) return []; // undefined, null, a refused side effect, an error
  value = await unproxied(cdp, value);
  // ownProperties false: the whole prototype chain, each with isOwn; indices (a typed array's million) left out.
  const props = await cdp.send<{ result: PropertyDescriptor[] }>('Runtime.getProperties', {
    objectId: value.objectId,
    ownProperties: false,
    nonIndexedPropertiesOnly: true,
    generatePreview: false,
  });
  return props.result
    .filter((p) => VALID_MEMBER.test(p.name) && p.name !== '__proto__' && p.name !== 'constructor')
    .map((p) => ({ label: p.name, type: kindOf(p.value, true), sortText: `${p.isOwn ? '0' : '1'}${p.name}` }));
}

function evaluateSafely(cdp: CdpSocket, callFrameId: string, expression: string): Promise<RemoteObject | undefined> {
  return cdp
    .send<{ result: RemoteObject; exceptionDetails?: unknown }>('Debugger.evaluateOnCallFrame', { callFrameId, expression, objectGroup: GROUP, silent: true, throwOnSideEffect: true })
    .then((r) => (r.exceptionDetails ? undefined : r.result));
}

/**
 * The value of `object` in the frame. A dotted chain (`evalPred.predictions`) is walked property by property,
 * so a Proxy on the way (the EvalPrediction is one) is looked through instead of having its trap run; anything
 * else (calls, indexing, a getter in the chain) is evaluated with throwOnSideEffect.
 */
async function resolve(cdp: CdpSocket, callFrameId: string, object: string): Promise<RemoteObject | undefined> {
  if (!DOTTED.test(object)) return evaluateSafely(cdp, callFrameId, object);
  const [head, ...rest] = object.split(/\??\./).map((n) => n.trim());
  let value = await evaluateSafely(cdp, callFrameId, head);
  for (const name of rest) {
    if (!value?.objectId) return evaluateSafely(cdp, callFrameId, object);
    value = await unproxied(cdp, value);
    const props = await cdp.send<{ result: PropertyDescriptor[] }>('Runtime.getProperties', { objectId: value.objectId, ownProperties: false, nonIndexedPropertiesOnly: true });
    const p = props.result.find((q) => q.name === name);
    if (!p?.value) return evaluateSafely(cdp, callFrameId, object); // a getter (or none): only a side-effect-free one runs
    value = p.value;
  }
  return value;
}

/** A Proxy's target (what its properties are), through nested proxies; other values as they are. */
async function unproxied(cdp: CdpSocket, value: RemoteObject): Promise<RemoteObject> {
  for (let depth = 0; value.subtype === 'proxy' && value.objectId && depth < 10; depth++) {
    const r = await cdp.send<{ internalProperties?: { name: string; value?: RemoteObject }[] }>('Runtime.getProperties', { objectId: value.objectId, ownProperties: true });
    const target = r.internalProperties?.find((p) => p.name === '[[Target]]')?.value;
    if (!target?.objectId) break;
    value = target;
  }
  return value;
}
