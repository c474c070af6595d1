// decor.ts — what the canvas shows on each node besides its definition:
// validation errors, the simulation's progress, the diff status, live counts.
// Kept outside the React Flow nodes so that changing them re-renders only
// the nodes whose decoration changed (each node subscribes to its own).
import { createContext, useContext, useSyncExternalStore } from 'react';

export type Counts = { entered: number; waiting: number; exited: number; converted: number };
export type Decor = {
  errors?: string[];
  sim?: 'done' | 'current';
  diff?: 'added' | 'removed' | 'changed';
  counts?: Counts;
  start?: boolean;
};

const EMPTY: Decor = {};

function sameList(a?: string[], b?: string[]) {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameCounts(a?: Counts, b?: Counts) {
  if (a === b) return true;
  if (!a || !b) return false;
  return a.entered === b.entered && a.waiting === b.waiting && a.exited === b.exited && a.converted === b.converted;
}

export function sameDecor(a: Decor, b: Decor) {
  return a.sim === b.sim && a.diff === b.diff && a.start === b.start && sameList(a.errors, b.errors) && sameCounts(a.counts, b.counts);
}

export class DecorStore {
  private map = new Map<string, Decor>();
  private listeners = new Set<() => void>();

  get = (uid: string): Decor => this.map.get(uid) ?? EMPTY;

  /** Replaces every decoration; a node whose decoration is unchanged keeps the same object. */
  set(next: Map<string, Decor>) {
    let changed = false;
    const out = new Map<string, Decor>();
    for (const [uid, d] of next) {
      const old = this.map.get(uid);
      if (old && sameDecor(old, d)) out.set(uid, old);
      else {
        out.set(uid, d);
        changed = true;
      }
    }
    if (!changed) for (const uid of this.map.keys()) if (!out.has(uid)) changed = true;
    this.map = out;
    if (changed) this.listeners.forEach((f) => f());
  }

  subscribe = (f: () => void) => {
    this.listeners.add(f);
    return () => {
      this.listeners.delete(f);
    };
  };
}

export const DecorContext = createContext<DecorStore>(new DecorStore());

export function useDecor(uid: string): Decor {
  const store = useContext(DecorContext);
  return useSyncExternalStore(
    store.subscribe,
    () => store.get(uid),
    () => store.get(uid),
  );
}
