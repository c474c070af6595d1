// eventNames.ts — the event names pickers offer: the workspace's own (GET
// /api/v1/events/names, fetched once per page load) with the ones cairn and
// the e-commerce spec name, sorted. A failed fetch leaves the known ones.
import { useEffect, useState } from 'react';
import { api } from './api';

/** Events cairn emits itself and the e-commerce spec (CONVENTIONS §3). */
export const KNOWN_EVENTS = [
  'Signed Up', 'Product Viewed', 'Product Added', 'Checkout Started', 'Order Completed',
  'Email Sent', 'Email Delivered', 'Email Opened', 'Email Link Clicked', 'Email Bounced', 'Email Marked as Spam',
  'Unsubscribed', 'Message Sent', 'Message Delivered', 'Message Failed',
  'Segment Entered', 'Segment Exited', 'Tag Added', 'Tag Removed', 'Journey Entered', 'Journey Exited', 'Goal Reached',
];

let loaded: Promise<string[]> | null = null;

function load(): Promise<string[]> {
  if (!loaded)
    loaded = api<{ data: string[] }>('GET', 'events/names').then(
      (r) => [...new Set([...r.data, ...KNOWN_EVENTS])].sort((a, b) => a.localeCompare(b)),
      () => {
        loaded = null; // try again next time
        return KNOWN_EVENTS;
      },
    );
  return loaded;
}

export function useEventNames(): string[] {
  const [names, setNames] = useState<string[]>(KNOWN_EVENTS);
  useEffect(() => {
    let live = true;
    load().then((n) => live && setNames(n));
    return () => {
      live = false;
    };
  }, []);
  return names;
}
