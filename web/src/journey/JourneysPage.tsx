import { Page } from '../ui';

export default function JourneysPage({ path }: { path: string }) {
  return <Page title="JourneysPage">{path}</Page>;
}
