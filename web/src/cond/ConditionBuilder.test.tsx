import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConditionBuilder, type Condition } from './ConditionBuilder';
import { CondOptionsContext } from './options';

afterEach(cleanup);

function Harness({ initial, onValue }: { initial: Condition | null; onValue: (c: Condition | null) => void }) {
  const [v, setV] = useState<Condition | null>(initial);
  return (
    <ConditionBuilder
      value={v}
      label="Who"
      onChange={(c) => {
        setV(c);
        onValue(c);
      }}
    />
  );
}

function unlabelled(root: HTMLElement) {
  return [...root.querySelectorAll('input, select, textarea')].filter((el) => {
    const id = el.getAttribute('id');
    const byFor = id ? root.ownerDocument.querySelector(`label[for="${CSS.escape(id)}"]`) : null;
    return !el.getAttribute('aria-label') && !byFor && !el.closest('label');
  });
}

describe('ConditionBuilder', () => {
  it('builds a rule from nothing', () => {
    const onValue = vi.fn();
    render(<Harness initial={null} onValue={onValue} />);
    expect(screen.getByTestId('cond-builder')).toBeTruthy();
    fireEvent.click(screen.getByTestId('cond-add-rule'));
    expect(onValue).toHaveBeenLastCalledWith({ trait: '', op: 'eq', value: '' });
    fireEvent.change(screen.getByLabelText('Trait name'), { target: { value: 'plan' } });
    fireEvent.change(screen.getByLabelText('Value'), { target: { value: 'pro' } });
    expect(onValue).toHaveBeenLastCalledWith({ trait: 'plan', op: 'eq', value: 'pro' });
    fireEvent.change(screen.getByLabelText('Operator'), { target: { value: 'in' } });
    expect(onValue).toHaveBeenLastCalledWith({ trait: 'plan', op: 'in', value: ['pro'] });
    fireEvent.change(screen.getByLabelText('Operator'), { target: { value: 'exists' } });
    expect(onValue).toHaveBeenLastCalledWith({ trait: 'plan', op: 'exists' });
    expect(screen.queryByLabelText('Value')).toBeNull();
    // a second rule makes an "all" group
    fireEvent.click(screen.getByTestId('cond-add-rule'));
    expect(onValue).toHaveBeenLastCalledWith({ all: [{ trait: 'plan', op: 'exists' }, { trait: '', op: 'eq', value: '' }] });
    fireEvent.click(screen.getByTestId('cond-add-group'));
    expect((onValue.mock.lastCall![0] as { all: unknown[] }).all).toHaveLength(3);
    expect(unlabelled(screen.getByTestId('cond-builder'))).toEqual([]);
  });

  it('shows every kind with labelled inputs', () => {
    const all: Condition = {
      all: [
        { trait: 'a', op: 'between', value: [1, 2] },
        { property: 'p', op: 'within_last', value: { days: 2, hours: 1 } },
        { computed: 'order_count', op: 'gte', value: 1 },
        { event: 'Order Completed', where: { property: 'currency', op: 'eq', value: 'KRW' }, count: { op: 'gte', value: 2 }, sum: { property: 'revenue', op: 'gte', value: 10 }, within: { days: 30 } },
        { segment: 'vip' },
        { tag: 't' },
        { consent: { channel: 'topics.news', is: 'subscribed' } },
        { score: 'lead', percentile: { op: 'gte', value: 80 } },
        { not: { any: [{ tag: 'x' }] } },
        { trait: 'x', op: 'in', value: ['a', 'b'] },
      ],
    };
    const onValue = vi.fn();
    render(<Harness initial={all} onValue={onValue} />);
    const root = screen.getByTestId('cond-builder');
    expect(unlabelled(root)).toEqual([]);
    expect((screen.getByLabelText('Event name') as HTMLInputElement).value).toBe('Order Completed');
    expect((screen.getByLabelText('Topic') as HTMLInputElement).value).toBe('news');
    expect(onValue).not.toHaveBeenCalled();
    // an edit deep inside gives the whole condition back
    fireEvent.change(screen.getByLabelText('Segment id'), { target: { value: 'gold' } });
    const out = onValue.mock.lastCall![0] as { all: Condition[] };
    expect(out.all[4]).toEqual({ segment: 'gold' });
    expect(out.all[3]).toEqual(all.all instanceof Array ? (all.all as Condition[])[3] : null);
  });

  it('edits JSON and reports invalid JSON at the field', () => {
    const onValue = vi.fn();
    render(<Harness initial={{ tag: 'a' }} onValue={onValue} />);
    fireEvent.click(screen.getByTestId('cond-json-toggle'));
    const ta = screen.getByLabelText('Condition as JSON') as HTMLTextAreaElement;
    expect(JSON.parse(ta.value)).toEqual({ tag: 'a' });
    fireEvent.change(ta, { target: { value: '{"tag": ' } });
    expect(screen.getByRole('alert').textContent).toMatch(/not valid JSON/);
    expect(ta.getAttribute('aria-invalid')).toBe('true');
    expect(onValue).not.toHaveBeenCalled();
    fireEvent.change(ta, { target: { value: '{"segment": "vip"}' } });
    expect(onValue).toHaveBeenLastCalledWith({ segment: 'vip' });
    fireEvent.click(screen.getByText('Builder'));
    expect((screen.getByLabelText('Segment id') as HTMLInputElement).value).toBe('vip');
  });

  it('shows local problems and the server error at the rule', () => {
    render(
      <CondOptionsContext.Provider value={{ error: { path: 'all[1].count.op', message: 'Server says no.' } }}>
        <ConditionBuilder value={{ all: [{ tag: 'a' }, { event: 'A', count: { op: 'gte', value: 1.5 } }] }} onChange={() => {}} />
      </CondOptionsContext.Provider>,
    );
    expect(screen.getByText('Server says no.')).toBeTruthy();
    expect(screen.getByText('Write a whole number, 0 or more.')).toBeTruthy();
    expect(screen.getByLabelText('Count operator').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByLabelText('Count').getAttribute('aria-invalid')).toBe('true');
  });

  it('takes a new value from outside', () => {
    const { rerender } = render(<ConditionBuilder value={{ tag: 'a' }} onChange={() => {}} />);
    expect((screen.getByLabelText('Tag') as HTMLInputElement).value).toBe('a');
    act(() => rerender(<ConditionBuilder value={{ tag: 'b' }} onChange={() => {}} />));
    expect((screen.getByLabelText('Tag') as HTMLInputElement).value).toBe('b');
  });
});
