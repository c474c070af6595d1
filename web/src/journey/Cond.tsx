// Cond.tsx — the condition builder (../cond) as a journey field: event
// filters ("where") offer only property rules, a branch's "when" everything
// but bare properties (docs/journeys.md "Conditions"); the server's error
// inside the condition goes to the rule it names.
import { useMemo } from 'react';
import { ConditionBuilder, type Condition } from '../cond/ConditionBuilder';
import { CondOptionsContext, type CondOptions } from '../cond/options';

const WHERE_KINDS = ['property'] as const;
const WHEN_KINDS = ['trait', 'event', 'segment', 'tag', 'consent', 'score', 'computed'] as const;

export function CondField({
  label,
  value,
  onChange,
  where,
  error,
  hint,
}: {
  label: string;
  value: unknown;
  onChange: (c: Condition | undefined) => void;
  /** an event filter (only property rules) rather than a question about the user */
  where?: boolean;
  /** the server's error: its path inside this condition ("" = the whole) and message */
  error?: { path: string; message: string } | null;
  hint?: string;
}) {
  const opts = useMemo<CondOptions>(() => ({ kinds: where ? WHERE_KINDS : WHEN_KINDS, error: error || null }), [where, error?.path, error?.message]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <div className={'cond-field' + (error ? ' field-error' : '')}>
      <CondOptionsContext.Provider value={opts}>
        <ConditionBuilder label={label} value={(value as Condition) ?? null} onChange={(c) => onChange(c ?? undefined)} />
      </CondOptionsContext.Provider>
      {hint && !error && <div className="field-hint">{hint}</div>}
    </div>
  );
}
