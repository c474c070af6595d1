import { Page } from '../ui';

export default function SegmentsPage({ path }: { path: string }) {
  return <Page title="SegmentsPage">{path}</Page>;
}
