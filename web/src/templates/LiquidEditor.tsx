// LiquidEditor.tsx — a textarea with Liquid syntax highlighting: the text is
// drawn by a highlighted <pre> under a textarea whose own text is
// transparent (the caret and selection stay visible). Both share font,
// padding and wrapping, and the pre follows the textarea's scroll.
import { useMemo, useRef, type TextareaHTMLAttributes } from 'react';
import { tokenize } from './liquid';
import './liquid-editor.css';

type Props = Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'value' | 'onChange'> & {
  value: string;
  onChange: (v: string) => void;
  rows?: number;
  invalid?: boolean;
  testId?: string;
};

export function LiquidEditor({ value, onChange, rows = 8, invalid, testId, className, ...rest }: Props) {
  const pre = useRef<HTMLPreElement>(null);
  const tokens = useMemo(() => tokenize(value), [value]);
  const sync = (e: { currentTarget: HTMLTextAreaElement }) => {
    if (pre.current) {
      pre.current.scrollTop = e.currentTarget.scrollTop;
      pre.current.scrollLeft = e.currentTarget.scrollLeft;
    }
  };
  return (
    <div className={'lq-editor' + (invalid ? ' lq-invalid' : '') + (className ? ' ' + className : '')} style={{ ['--rows' as string]: rows }}>
      <pre ref={pre} className="lq-highlight" aria-hidden="true">
        {tokens.map((t, i) =>
          t.type === 'text' ? (
            t.text
          ) : (
            <span key={i} className={'lq-' + t.type}>
              {t.text}
            </span>
          ),
        )}
        {/* a trailing newline in the textarea needs a line in the pre too */}
        {'\n '}
      </pre>
      <textarea
        {...rest}
        data-testid={testId}
        aria-invalid={invalid || undefined}
        spellCheck={false}
        autoCapitalize="off"
        autoCorrect="off"
        rows={rows}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        onScroll={sync}
      />
    </div>
  );
}
