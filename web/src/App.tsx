// App.tsx — the shell: session, login, layout, language, and the screens,
// each loaded on demand (the journey builder and charts are their own chunks).
import { lazy, Suspense, useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, setCsrf, setUnauthorizedHandler, type Session } from './api';
import { initialLang, LocaleContext, useT, type Lang } from './i18n';
import { Link, matchPath, navigate, usePath } from './router';
import { shellDict } from './shell.i18n';
import { ErrorBanner, Field, Loading } from './ui';

const Journeys = lazy(() => import('./journey/JourneysPage'));
const Segments = lazy(() => import('./segments/SegmentsPage'));
const Templates = lazy(() => import('./templates/TemplatesPage'));
const People = lazy(() => import('./people/PeoplePage'));
const Dashboards = lazy(() => import('./dashboards/DashboardsPage'));
const Settings = lazy(() => import('./settings/SettingsPage'));

// Each screen receives the rest of the path: "/journeys/12" → Journeys with path "/12".
const screens = [
  { base: '/journeys', key: 'nav.journeys', C: Journeys },
  { base: '/segments', key: 'nav.segments', C: Segments },
  { base: '/templates', key: 'nav.templates', C: Templates },
  { base: '/people', key: 'nav.people', C: People },
  { base: '/dashboards', key: 'nav.dashboards', C: Dashboards },
  { base: '/settings', key: 'nav.settings', C: Settings },
];

export default function App() {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const setLang = useCallback((l: Lang) => {
    localStorage.setItem('cairn.lang', l);
    setLangState(l);
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  useEffect(() => {
    setUnauthorizedHandler(() => setSession(null));
    api<Session>('GET', 'session').then(
      (s) => {
        setCsrf(s.csrf_token);
        setSession(s);
      },
      () => setSession(null),
    );
  }, []);
  const timezone = session?.workspace.timezone || 'UTC';
  return (
    <LocaleContext.Provider value={{ lang, setLang, timezone }}>
      {session === undefined ? <Loading /> : session === null ? <Login onLogin={setSession} /> : <Shell session={session} onLogout={() => setSession(null)} />}
    </LocaleContext.Provider>
  );
}

function LangSwitch() {
  const t = useT(shellDict);
  return (
    <LocaleContext.Consumer>
      {({ lang, setLang }) => (
        <button type="button" className="lang-switch" aria-label={t('lang.label')} onClick={() => setLang(lang === 'ko' ? 'en' : 'ko')}>
          <span lang={lang === 'ko' ? 'en' : 'ko'}>{t('lang.switch')}</span>
        </button>
      )}
    </LocaleContext.Consumer>
  );
}

function Login({ onLogin }: { onLogin: (s: Session) => void }) {
  const t = useT(shellDict);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      const s = await api<Session>('POST', 'session', { email, password });
      setCsrf(s.csrf_token);
      onLogin(s);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="login">
      <form onSubmit={submit} className="login-card" aria-labelledby="login-title">
        <div className="login-top">
          <h1 id="login-title">{t('login.title')}</h1>
          <LangSwitch />
        </div>
        <ErrorBanner error={error} />
        <Field label={t('login.email')} id="login-email">
          <input id="login-email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </Field>
        <Field label={t('login.password')} id="login-password">
          <input id="login-password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </Field>
        <button type="submit" className="primary" disabled={busy}>
          {t('login.submit')}
        </button>
        <p className="muted">{t('login.hint')}</p>
      </form>
    </main>
  );
}

function Shell({ session, onLogout }: { session: Session; onLogout: () => void }) {
  const t = useT(shellDict);
  const path = usePath();
  useEffect(() => {
    if (path === '/' || path === '/index.html') navigate('/journeys', true);
  }, [path]);
  const pathname = path.split('?')[0];
  const screen = screens.find((s) => pathname === s.base || pathname.startsWith(s.base + '/'));
  const logout = async () => {
    await api('DELETE', 'session').catch(() => {});
    onLogout();
  };
  return (
    <div className="shell">
      <nav className="sidebar" aria-label={t('nav.main')}>
        <div className="brand">cairn</div>
        <div className="workspace">{session.workspace.name}</div>
        <ul>
          {screens.map((s) => (
            <li key={s.base}>
              <Link to={s.base} aria-current={screen === s ? 'page' : undefined} className={screen === s ? 'active' : ''}>
                {t(s.key)}
              </Link>
            </li>
          ))}
        </ul>
        <div className="sidebar-foot">
          <div className="muted small">{session.member.email}</div>
          <div className="muted small">{t('tz', { tz: session.workspace.timezone })}</div>
          <LangSwitch />
          <button type="button" className="link" onClick={logout}>
            {t('logout')}
          </button>
        </div>
      </nav>
      <main className="content">
        <Suspense fallback={<Loading />}>
          {screen ? <screen.C path={pathname.slice(screen.base.length) || '/'} /> : <p>{t('notfound')}</p>}
        </Suspense>
      </main>
    </div>
  );
}

export { matchPath };
