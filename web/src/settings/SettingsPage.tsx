import { Page } from '../ui';

export default function SettingsPage({ path }: { path: string }) {
  return <Page title="SettingsPage">{path}</Page>;
}
