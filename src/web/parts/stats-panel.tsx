/**
 * The dashboard's stats: the figures of `shiftctl stats` (GET /api/admin/stats) for a window and
 * a grouping, as charts and, beside each chart, the table of what it draws (a chart alone is not
 * accessible: the tables are what screen readers and the keyboard read). The model fetches the
 * figures again as the push stream reports offers and answers, at most once per 2 s.
 */
import type { ComponentChildren } from 'preact';
import { useMemo } from 'preact/hooks';
import { humanSeconds, percent } from '../../client/stats-text.js';
import { STATS_GROUPINGS } from '../../protocol/names.js';
import type { StatsGroupView, StatsResponse } from '../../protocol/stats.js';
import type { DashboardModel, DashboardSnapshot, StatsWindow } from '../dashboard-model.js';
import { BarChart, type BarSeries } from './bar-chart.js';
import { LiveForm } from './live-form.js';
import { Table } from './table.js';

const GROUP_TITLES: Record<(typeof STATS_GROUPINGS)[number], string> = {
  location: 'Location',
  client: 'Client',
  service_type: 'Service',
  employee: 'Employee',
};

/** A row of the tables: a group, or the total. */
type Row = { label: string; key: string; name?: string | null | undefined } & Pick<
  StatsGroupView,
  'offers' | 'shifts'
>;

const OFFER_FIGURES = ['sent', 'delivered', 'answered', 'accepted', 'rejected', 'expired'] as const;
const SHIFT_FIGURES = ['offered', 'filled', 'unfilled', 'withdrawn', 'open'] as const;

const capital = (text: string) => text[0]?.toUpperCase() + text.slice(1);
const count = (n: number | undefined) => (n === undefined ? '' : String(n));
/** A chart's category: long names cut (the table has them whole). */
const short = (text: string) => (text.length > 16 ? `${text.slice(0, 15)}…` : text);
const tickSeconds = (s: number) => (s === 0 ? '0' : humanSeconds(s));
const tickPercent = (r: number) => `${Math.round(r * 100)}%`;

/** `2026-11-01 00:00 UTC`. */
const utc = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

function windowText(stats: StatsResponse): string {
  if (stats.from === null && stats.to === null) return 'all time';
  if (stats.to === null) return `from ${utc(stats.from as string)}`;
  if (stats.from === null) return `before ${utc(stats.to)}`;
  return `${utc(stats.from)} to ${utc(stats.to)}`;
}

function rowsOf(stats: StatsResponse): Row[] {
  return [
    ...stats.groups.map((g) => ({
      ...g,
      key: String(g.key),
      label: g.key === null ? '(none)' : String(g.key),
    })),
    { key: 'total', label: stats.by === null ? 'All' : 'Total', ...stats.total },
  ];
}

function WindowForm({ model, window }: { model: DashboardModel; window: StatsWindow }) {
  const update = (data: FormData) => {
    const value = (name: string) => String(data.get(name) ?? '').trim() || undefined;
    const by = value('by');
    model.setStatsWindow({
      from: value('from'),
      to: value('to'),
      by: STATS_GROUPINGS.find((g) => g === by),
    });
  };
  return (
    <LiveForm apply={update}>
      <label for="stats-from">From</label>
      <input id="stats-from" name="from" type="date" value={window.from ?? ''} />
      <label for="stats-to">To (included)</label>
      <input id="stats-to" name="to" type="date" value={window.to ?? ''} />
      <label for="stats-by">By</label>
      <select id="stats-by" name="by" value={window.by ?? ''}>
        <option value="">nothing: totals only</option>
        {STATS_GROUPINGS.map((g) => (
          <option key={g} value={g}>
            {GROUP_TITLES[g].toLowerCase()}
          </option>
        ))}
      </select>
      <button type="submit">Show</button>
    </LiveForm>
  );
}

/** A chart and the table of what it draws, captioned together. */
function Figure(props: {
  id: string;
  caption: string;
  wide?: boolean;
  children: ComponentChildren;
}) {
  return (
    <figure
      class={props.wide ? 'stats-figure wide' : 'stats-figure'}
      aria-labelledby={`${props.id}-caption`}
    >
      <figcaption id={`${props.id}-caption`}>{props.caption}</figcaption>
      {props.children}
    </figure>
  );
}

function Figures({ stats }: { stats: StatsResponse }) {
  const rows = useMemo(() => rowsOf(stats), [stats]);
  const { by } = stats;
  const keyTitle = by === null ? 'Group' : GROUP_TITLES[by];
  const total = stats.total;
  const shiftRows = rows.filter((r) => r.shifts !== null);
  // The charts' data, made once per answer so that the charts are drawn once per answer.
  const charts = useMemo(() => {
    const t = stats.total;
    const offers: BarSeries[] = [
      { label: 'Offers', values: OFFER_FIGURES.map((f) => t.offers[f]), color: '--accent' },
    ];
    const shifts: BarSeries[] = [
      {
        label: 'Shifts',
        values: SHIFT_FIGURES.map((f) => t.shifts?.[f] ?? null),
        color: '--accept',
      },
    ];
    const times: BarSeries[] = [
      {
        label: 'Median',
        values: [
          t.offers.response_seconds.median,
          t.shifts?.first_accept_seconds.median ?? null,
          t.shifts?.fill_seconds.median ?? null,
        ],
        color: '--accent',
      },
      {
        label: '90th percentile',
        values: [
          t.offers.response_seconds.p90,
          t.shifts?.first_accept_seconds.p90 ?? null,
          t.shifts?.fill_seconds.p90 ?? null,
        ],
        color: '--reject',
      },
    ];
    const groups = stats.groups;
    const rates: BarSeries[] = [
      {
        label: 'Answer rate',
        values: groups.map((g) => g.offers.response_rate),
        color: '--accent',
      },
    ];
    if (stats.by !== 'employee') {
      rates.push({
        label: 'Fill rate',
        values: groups.map((g) => g.shifts?.fill_rate ?? null),
        color: '--accept',
      });
    }
    const groupLabels = groups.map((g) => short(g.key === null ? '(none)' : String(g.key)));
    return { offers, shifts, times, rates, groupLabels };
  }, [stats]);

  return (
    <>
      <dl class="stats-headline">
        <div>
          <dt>Offers sent</dt>
          <dd data-figure="sent">{total.offers.sent}</dd>
        </div>
        <div>
          <dt>Answer rate</dt>
          <dd data-figure="response_rate">{percent(total.offers.response_rate) || '—'}</dd>
        </div>
        <div>
          <dt>Fill rate</dt>
          <dd data-figure="fill_rate">{percent(total.shifts?.fill_rate ?? null) || '—'}</dd>
        </div>
        <div>
          <dt>Unfilled shifts</dt>
          <dd data-figure="unfilled">{count(total.shifts?.unfilled)}</dd>
        </div>
        <div>
          <dt>Withdrawn shifts</dt>
          <dd data-figure="withdrawn">{count(total.shifts?.withdrawn)}</dd>
        </div>
      </dl>
      <div class="stats-figures">
        <Figure
          id="stats-offers"
          wide
          caption={`Offers sent ${windowText(stats)}: what came of them`}
        >
          <BarChart name="offers" categories={OFFER_FIGURES.map(capital)} series={charts.offers} />
          <Table
            class="stats-offers"
            label="Offers, figures"
            columns={[
              keyTitle,
              ...(by === 'employee' ? ['Name'] : []),
              ...OFFER_FIGURES.map(capital),
              'Answer rate',
              'Answer median',
              'p90',
            ]}
          >
            {rows.map((r) => (
              <tr key={r.key} data-key={r.key}>
                <th scope="row">{r.label}</th>
                {by === 'employee' && <td>{r.name ?? ''}</td>}
                {OFFER_FIGURES.map((f) => (
                  <td key={f} data-col={f}>
                    {r.offers[f]}
                  </td>
                ))}
                <td data-col="response_rate">{percent(r.offers.response_rate)}</td>
                <td data-col="response_median">{humanSeconds(r.offers.response_seconds.median)}</td>
                <td data-col="response_p90">{humanSeconds(r.offers.response_seconds.p90)}</td>
              </tr>
            ))}
          </Table>
        </Figure>
        <Figure
          id="stats-shifts"
          wide
          caption={`Shifts created ${windowText(stats)}: how they ended`}
        >
          <BarChart name="shifts" categories={SHIFT_FIGURES.map(capital)} series={charts.shifts} />
          <Table
            class="stats-shifts"
            label="Shifts, figures"
            columns={[
              by === 'employee' ? 'Group' : keyTitle,
              ...SHIFT_FIGURES.map(capital),
              'Fill rate',
              '1st accept median',
              'p90',
              'To fill median',
              'p90',
            ]}
          >
            {shiftRows.map((r) => (
              <tr key={r.key} data-key={r.key}>
                <th scope="row">{r.label}</th>
                {SHIFT_FIGURES.map((f) => (
                  <td key={f} data-col={f}>
                    {count(r.shifts?.[f])}
                  </td>
                ))}
                <td data-col="fill_rate">{percent(r.shifts?.fill_rate ?? null)}</td>
                <td data-col="first_accept_median">
                  {humanSeconds(r.shifts?.first_accept_seconds.median ?? null)}
                </td>
                <td data-col="first_accept_p90">
                  {humanSeconds(r.shifts?.first_accept_seconds.p90 ?? null)}
                </td>
                <td data-col="fill_median">
                  {humanSeconds(r.shifts?.fill_seconds.median ?? null)}
                </td>
                <td data-col="fill_p90">{humanSeconds(r.shifts?.fill_seconds.p90 ?? null)}</td>
              </tr>
            ))}
          </Table>
        </Figure>
        <Figure id="stats-times" caption="How fast: median and 90th percentile">
          <BarChart
            name="times"
            categories={['Answer', 'First accept', 'Fill']}
            series={charts.times}
            format={tickSeconds}
          />
          <Table
            class="stats-times"
            label="How fast, figures"
            columns={['Time taken', 'Median', 'p90']}
          >
            <tr data-key="answer">
              <th scope="row">Offer sent to answer</th>
              <td>{humanSeconds(total.offers.response_seconds.median) || '—'}</td>
              <td>{humanSeconds(total.offers.response_seconds.p90) || '—'}</td>
            </tr>
            <tr data-key="first_accept">
              <th scope="row">First offer to first accept</th>
              <td>{humanSeconds(total.shifts?.first_accept_seconds.median ?? null) || '—'}</td>
              <td>{humanSeconds(total.shifts?.first_accept_seconds.p90 ?? null) || '—'}</td>
            </tr>
            <tr data-key="fill">
              <th scope="row">First offer to filled</th>
              <td>{humanSeconds(total.shifts?.fill_seconds.median ?? null) || '—'}</td>
              <td>{humanSeconds(total.shifts?.fill_seconds.p90 ?? null) || '—'}</td>
            </tr>
          </Table>
        </Figure>
        {by !== null && stats.groups.length > 0 && (
          <Figure
            id="stats-rates"
            caption={`Answer ${by === 'employee' ? 'rate' : 'and fill rates'} by ${GROUP_TITLES[by].toLowerCase()}`}
          >
            <BarChart
              name="rates"
              categories={charts.groupLabels}
              series={charts.rates}
              format={tickPercent}
            />
            <Table
              class="stats-rates"
              label="Rates by group, figures"
              columns={[
                keyTitle,
                'Answer rate',
                'Answer median',
                ...(by === 'employee' ? [] : ['Fill rate']),
              ]}
            >
              {stats.groups.map((g) => (
                <tr key={String(g.key)} data-key={String(g.key)}>
                  <th scope="row">
                    {g.key === null ? '(none)' : String(g.key)}
                    {g.name ? ` ${g.name}` : ''}
                  </th>
                  <td>{percent(g.offers.response_rate) || '—'}</td>
                  <td>{humanSeconds(g.offers.response_seconds.median) || '—'}</td>
                  {by !== 'employee' && <td>{percent(g.shifts?.fill_rate ?? null) || '—'}</td>}
                </tr>
              ))}
            </Table>
          </Figure>
        )}
      </div>
    </>
  );
}

export function StatsPanel({
  snapshot,
  model,
}: {
  snapshot: DashboardSnapshot;
  model: DashboardModel;
}) {
  const { stats, statsAt, statsProblem } = snapshot;
  return (
    <section class="panel stats" aria-labelledby="stats-title" id="stats">
      <h2 id="stats-title">Stats</h2>
      <WindowForm model={model} window={snapshot.statsWindow} />
      {statsProblem && (
        <p class="error" role="alert">
          {statsProblem}
        </p>
      )}
      {stats === undefined ? (
        <p>Loading…</p>
      ) : (
        <>
          <p class="muted" data-testid="stats-updated">
            Dates are UTC days. Updated {statsAt?.toLocaleTimeString([], { hour12: false })}, as
            offers and answers come.
          </p>
          <Figures stats={stats} />
        </>
      )}
    </section>
  );
}
