// What the prediction view keeps in its webview state (vscode.getState/setState) across hide/show and window
// reloads: the query (and how a filter change makes a new one), the scroll offset, the selected row, the hidden columns, and the host's own restore data (init's hostState,
// e.g. the cache folder the panel serializer reopens). No DOM: unit-tested under Node.
import { ColumnId, DEFAULT_QUERY, RowFilter, RowQuery, isColumnId } from '../../src/shared/protocol';

export interface SavedState {
  query: RowQuery;
  /** Row-space scroll offset in pixels, in rows of `lines` lines. */
  offset: number;
  /** Lines per row when saved (num_return_sequences: one per sequence); absent means 1. */
  lines?: number;
  selected: number;
  /** Columns the user hid (the Columns menu). */
  hidden?: ColumnId[];
  /** The host's own restore data, kept beside the view's fields. */
  [host: string]: unknown;
}

const VIEW_KEYS = ['query', 'offset', 'selected', 'hidden', 'lines'];

export interface Restored {
  query: RowQuery;
  offset: number | undefined;
  /** The rows' lines the offset counts in: the table takes them before the first rows arrive. */
  lines: number;
  selected: number;
  hidden: ColumnId[];
  hostState: Record<string, unknown>;
}

/** Read a saved state (or nothing) back; anything that is not the view's own field is the host's. */
export function restoreState(saved: SavedState | undefined): Restored {
  const hostState: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(saved ?? {})) if (!VIEW_KEYS.includes(k)) hostState[k] = v;
  return {
    query: saved?.query ?? { ...DEFAULT_QUERY, filter: {} },
    offset: saved?.offset,
    lines: Number.isInteger(saved?.lines) && (saved!.lines as number) >= 1 ? (saved!.lines as number) : 1,
    selected: saved?.selected ?? 0,
    hidden: Array.isArray(saved?.hidden) ? saved.hidden.filter(isColumnId) : [],
    hostState,
  };
}

export function stateToSave(hostState: Record<string, unknown>, query: RowQuery, offset: number, selected: number, hidden: ColumnId[] = [], lines = 1): SavedState {
  return { ...hostState, query, offset, selected, hidden, ...(lines > 1 ? { lines } : {}) };
}

/** `query` with `patch` merged into its filter; empty, false and undefined entries are dropped. */
export function withFilter(query: RowQuery, patch: Partial<RowFilter>): RowQuery {
  const filter = { ...query.filter, ...patch };
  for (const k of Object.keys(filter) as (keyof RowFilter)[]) if (filter[k] === undefined || filter[k] === '' || filter[k] === false) delete filter[k];
  return { ...query, filter };
}
