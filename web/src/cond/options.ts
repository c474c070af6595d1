// options.ts — what a screen can tell every ConditionBuilder inside it without
// changing the builder's props: which rule kinds fit there (a segment has no
// "current event", so no top-level property rules) and the server's error for
// the condition (ApiError.field "condition.all[1].count.op" → that rule).
import { createContext } from 'react';
import type { LeafKind } from './cond';

export type CondOptions = {
  /** Leaf kinds offered at the top level (inside `where` only properties). Default: all. */
  kinds?: readonly LeafKind[];
  /** A server error inside the condition: `path` relative to the condition ("" = the whole). */
  error?: { path: string; message: string } | null;
};

export const CondOptionsContext = createContext<CondOptions>({});
