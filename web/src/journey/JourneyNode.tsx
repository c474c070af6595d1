// JourneyNode.tsx — the canvas cards: one memoized component for every
// journey node, one for the trigger. Each reads its own decoration (errors,
// simulation, diff, counts) from the DecorStore, so a change on one node
// re-renders that node only.
import { createContext, memo, useContext, useEffect, useRef } from 'react';
import { Handle, Position, useUpdateNodeInternals, type NodeProps } from '@xyflow/react';
import { useFormat, useT } from '../i18n';
import { useDecor } from './decor';
import { nodeSummary } from './format';
import { outputsOf, START_HANDLE, TRIGGER_ID, type JFlowNode, type Output, type TriggerFlowNode } from './graph';
import { journeyDict } from './journey.i18n';

export type TriggerInfo = { summary: string };
export const TriggerInfoContext = createContext<TriggerInfo>({ summary: '' });

function outLabel(o: Output, def: JFlowNode['data']['def'], t: ReturnType<typeof useT>): string {
  switch (o.kind) {
    case 'branch':
      return String((o.index ?? 0) + 1);
    case 'else':
      return t('handle.else');
    case 'variant':
      return String(def.variants?.[o.index ?? 0]?.name ?? '');
    case 'timeout':
      return t('handle.timeout');
    default:
      return def.type === 'wait_event' ? t('handle.event') : '';
  }
}

function JourneyNodeView({ id, data, selected }: NodeProps<JFlowNode>) {
  const t = useT(journeyDict);
  const fmt = useFormat();
  const decor = useDecor(id);
  const def = data.def;
  const outs = outputsOf(def);
  // handles added or removed (a branch or variant more or less): measure them again
  const updateInternals = useUpdateNodeInternals();
  const sig = outs.map((o) => o.handle).join(',');
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    updateInternals(id);
  }, [sig, id, updateInternals]);
  const labelled = outs.length > 1 || def.type === 'wait_event';
  const err = decor.errors && decor.errors.length > 0;
  const cls =
    'jnode jnode-' +
    def.type +
    (err ? ' has-error' : '') +
    (decor.sim ? ' sim-' + decor.sim : '') +
    (decor.diff ? ' diff-' + decor.diff : '') +
    (selected ? ' is-selected' : '');
  return (
    <div className={cls} data-testid={'jnode-' + def.id} data-sim={decor.sim || undefined} data-diff={decor.diff || undefined}>
      <Handle type="target" position={Position.Top} />
      <div className="jnode-head">
        <span className="jnode-type">{t('type.' + def.type)}</span>
        {decor.start && <span className="jnode-start">{t('node.start')}</span>}
        {decor.diff && <span className={'jnode-diff diff-tag-' + decor.diff}>{t('diff.' + decor.diff)}</span>}
      </div>
      <div className="jnode-id">{def.id}</div>
      <div className="jnode-summary">{nodeSummary(def, t)}</div>
      {decor.counts && (
        <div className="jnode-counts" aria-label={t('counts.label')}>
          <span title={t('counts.entered')}>
            {t('counts.entered_short')} <b data-testid={'count-entered-' + def.id}>{fmt.num(decor.counts.entered)}</b>
          </span>
          <span title={t('counts.waiting')}>
            {t('counts.waiting_short')} <b data-testid={'count-waiting-' + def.id}>{fmt.num(decor.counts.waiting)}</b>
          </span>
          <span title={t('counts.converted')}>
            {t('counts.converted_short')} <b data-testid={'count-converted-' + def.id}>{fmt.num(decor.counts.converted)}</b>
          </span>
        </div>
      )}
      {err && (
        <div className="jnode-errors" data-testid={'node-error-' + def.id}>
          {decor.errors!.map((m, i) => (
            <div key={i}>{m}</div>
          ))}
        </div>
      )}
      {labelled && (
        <div className="jnode-outs" aria-hidden="true">
          {outs.map((o) => (
            <span key={o.handle}>{outLabel(o, def, t)}</span>
          ))}
        </div>
      )}
      {outs.map((o, i) => (
        <Handle
          key={o.handle}
          id={o.handle}
          type="source"
          position={Position.Bottom}
          style={{ left: `${((i + 0.5) * 100) / outs.length}%` }}
          aria-label={labelled ? t('handle.aria', { label: outLabel(o, def, t) }) : t('handle.next_aria')}
        />
      ))}
    </div>
  );
}

export const JourneyNode = memo(JourneyNodeView);

function TriggerNodeView({ selected }: NodeProps<TriggerFlowNode>) {
  const t = useT(journeyDict);
  const info = useContext(TriggerInfoContext);
  const decor = useDecor(TRIGGER_ID);
  const err = decor.errors && decor.errors.length > 0;
  return (
    <div
      className={'jnode jnode-trigger' + (err ? ' has-error' : '') + (decor.sim ? ' sim-' + decor.sim : '') + (selected ? ' is-selected' : '')}
      data-testid={'jnode-' + TRIGGER_ID}
    >
      <div className="jnode-head">
        <span className="jnode-type">{t('type.trigger')}</span>
      </div>
      <div className="jnode-summary">{info.summary}</div>
      {err && (
        <div className="jnode-errors" data-testid={'node-error-' + TRIGGER_ID}>
          {decor.errors!.map((m, i) => (
            <div key={i}>{m}</div>
          ))}
        </div>
      )}
      <Handle type="source" id={START_HANDLE} position={Position.Bottom} aria-label={t('handle.start_aria')} />
    </div>
  );
}

export const TriggerNode = memo(TriggerNodeView);

export const nodeTypes = { jnode: JourneyNode, trigger: TriggerNode };
