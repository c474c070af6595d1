// TemplatesPage.tsx — /templates: the list by channel ("/"), a new
// template ("/new", "/new?channel=sms") and the editor ("/<id>").
import { matchPath } from '../router';
import { TemplateEditor } from './TemplateEditor';
import { TemplateList } from './TemplateList';
import './templates.css';

export default function TemplatesPage({ path }: { path: string }) {
  if (path === '/' || path === '') return <TemplateList />;
  if (path === '/new') return <TemplateEditor key="new" id={null} />;
  const m = matchPath('/:id', path);
  if (m) return <TemplateEditor key={m.id} id={m.id} />;
  return <TemplateList />;
}
