import { Page } from '../ui';

export default function DashboardsPage({ path }: { path: string }) {
  return <Page title="DashboardsPage">{path}</Page>;
}
