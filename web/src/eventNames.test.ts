import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderHook, waitFor } from '@testing-library/react';
import { KNOWN_EVENTS, useEventNames } from './eventNames';

describe('useEventNames', () => {
  afterEach(() => vi.unstubAllGlobals());
  it('offers the workspace event names with the known ones, sorted and distinct', async () => {
    const fetch = vi.fn(async (_url: string) => new Response(JSON.stringify({ data: ['장바구니 담기', 'Order Completed', 'Coupon Used'] }), { headers: { 'Content-Type': 'application/json' } }));
    vi.stubGlobal('fetch', fetch);
    const { result } = renderHook(() => useEventNames());
    expect(result.current).toEqual(KNOWN_EVENTS); // before the answer
    await waitFor(() => expect(result.current).toContain('Coupon Used'));
    expect(result.current).toContain('장바구니 담기');
    expect(result.current.filter((n) => n === 'Order Completed')).toHaveLength(1);
    expect(result.current).toContain('Signed Up');
    expect([...result.current].sort((a, b) => a.localeCompare(b))).toEqual(result.current);
    expect(fetch.mock.calls[0][0]).toBe('/api/v1/events/names');
  });
});
