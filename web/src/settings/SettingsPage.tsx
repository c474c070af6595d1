// SettingsPage.tsx — /settings: providers, sender domains, API keys, the
// kill switch, tagging rules and general settings, one sub-path each, with
// a sub-navigation.
import { useT } from '../i18n';
import { Link } from '../router';
import { Page } from '../ui';
import { Domains } from './Domains';
import { General } from './General';
import { Keys } from './Keys';
import { KillSwitch } from './KillSwitch';
import { Providers } from './Providers';
import { settingsDict } from './settings.i18n';
import { Tagging } from './Tagging';
import './settings.css';

const TABS = [
  { path: '/providers', key: 'nav.providers', C: Providers },
  { path: '/domains', key: 'nav.domains', C: Domains },
  { path: '/keys', key: 'nav.keys', C: Keys },
  { path: '/kill-switch', key: 'nav.kill', C: KillSwitch },
  { path: '/tagging', key: 'nav.tagging', C: Tagging },
  { path: '/general', key: 'nav.general', C: General },
];

export default function SettingsPage({ path }: { path: string }) {
  const t = useT(settingsDict);
  const p = path.split('?')[0].replace(/\/+$/, '') || '/providers';
  const tab = TABS.find((x) => p === x.path || p.startsWith(x.path + '/'));
  return (
    <Page title={t('title')}>
      <div className="st-layout">
        <nav className="st-nav" aria-label={t('nav.label')} data-testid="settings-nav">
          <ul>
            {TABS.map((x) => (
              <li key={x.path}>
                <Link to={'/settings' + x.path} aria-current={tab === x ? 'page' : undefined} className={tab === x ? 'active' : ''}>
                  {t(x.key)}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="st-body">{tab ? <tab.C /> : <p>{t('notfound')}</p>}</div>
      </div>
    </Page>
  );
}
