import { Page } from '../ui';

export default function TemplatesPage({ path }: { path: string }) {
  return <Page title="TemplatesPage">{path}</Page>;
}
