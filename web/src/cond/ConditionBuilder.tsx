// Placeholder until the visual condition builder lands: the condition as JSON.
export type Condition = Record<string, unknown>;

export function ConditionBuilder({ value, onChange, label }: { value: Condition | null; onChange: (c: Condition | null) => void; label?: string }) {
  return (
    <textarea
      aria-label={label || 'condition'}
      defaultValue={value ? JSON.stringify(value, null, 2) : ''}
      onChange={(e) => {
        try {
          onChange(e.target.value.trim() ? JSON.parse(e.target.value) : null);
        } catch {
          /* keep typing */
        }
      }}
    />
  );
}
