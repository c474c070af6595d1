import { Page } from '../ui';

export default function PeoplePage({ path }: { path: string }) {
  return <Page title="PeoplePage">{path}</Page>;
}
