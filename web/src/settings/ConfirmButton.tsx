// ConfirmButton.tsx — a destructive action asked twice, in the page (no
// native dialog): the button turns into "question? [yes] [no]"; Escape or
// "no" goes back. Used by settings and templates.
import { useEffect, useRef, useState } from 'react';
import './controls.css';

type Props = {
  label: string;
  question: string;
  yes: string;
  no: string;
  onConfirm: () => void | Promise<void>;
  className?: string;
  disabled?: boolean;
  testId?: string;
  ariaLabel?: string;
};

export function ConfirmButton({ label, question, yes, no, onConfirm, className = 'danger', disabled, testId, ariaLabel }: Props) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const yesRef = useRef<HTMLButtonElement>(null);
  const firstRef = useRef<HTMLButtonElement>(null);
  const wasAsking = useRef(false);
  useEffect(() => {
    if (asking) yesRef.current?.focus();
    else if (wasAsking.current) firstRef.current?.focus();
    wasAsking.current = asking;
  }, [asking]);
  if (!asking) {
    return (
      <button ref={firstRef} type="button" className={className} onClick={() => setAsking(true)} disabled={disabled} data-testid={testId} aria-label={ariaLabel}>
        {label}
      </button>
    );
  }
  return (
    <span className="confirm-inline" role="group" aria-label={question} onKeyDown={(e) => e.key === 'Escape' && setAsking(false)}>
      <span className="confirm-q">{question}</span>
      <button
        ref={yesRef}
        type="button"
        className="danger"
        disabled={busy}
        data-testid={testId ? testId + '-yes' : undefined}
        onClick={async () => {
          setBusy(true);
          try {
            await onConfirm();
          } finally {
            setBusy(false);
            setAsking(false);
          }
        }}
      >
        {yes}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        {no}
      </button>
    </span>
  );
}
