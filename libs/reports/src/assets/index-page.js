'use strict';
// /ui: the recent runs (GET /api/backtests/history) and sweeps (GET /api/sweeps, where the
// server has it), each linking its report.
(function () {
  const { apiJson, el, formatNumber, formatTime, setStatus, setState, errorText } = window.Report;
  const LIMIT = 50;

  function table(headings, rows) {
    return el(
      'div',
      { className: 'table-scroll' },
      el(
        'table',
        {},
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            headings.map((heading) => el('th', { scope: 'col' }, heading)),
          ),
        ),
        el('tbody', {}, rows),
      ),
    );
  }

  async function showRuns() {
    const section = document.getElementById('runs');
    // The history's own default: the completed runs, the ones with a report to show.
    const page = await apiJson(`/api/backtests/history?limit=${LIMIT}`);
    if (!page.ok) {
      section.append(el('p', { className: 'status error' }, `Runs: ${errorText(page)}`));
      return;
    }
    const items = page.body.items;
    section.append(
      el(
        'p',
        { className: 'muted' },
        `${formatNumber(page.body.total)} run(s); the newest ${items.length}:`,
      ),
      table(
        ['run', 'status', 'strategy', 'symbols', 'timeframe', 'dates (KST)', 'trades', 'finished'],
        items.map((run) =>
          el(
            'tr',
            { 'data-run': run.task_id },
            el('td', {}, el('a', { href: `/ui/runs/${run.task_id}` }, run.task_id.slice(0, 8))),
            el('td', {}, run.status),
            el('td', {}, run.strategy),
            el('td', {}, run.symbols.join(', ')),
            el('td', {}, run.timeframe),
            el('td', {}, `${run.start_date} – ${run.end_date}`),
            el('td', { className: 'number' }, formatNumber(run.total_signals)),
            el('td', {}, formatTime(run.finished_at)),
          ),
        ),
      ),
    );
  }

  async function showSweeps() {
    const section = document.getElementById('sweeps');
    const response = await apiJson(`/api/sweeps?limit=${LIMIT}`);
    if (response.status === 404) {
      section.append(
        el(
          'p',
          { className: 'muted' },
          'This server has no parameter sweeps (GET /api/sweeps answers 404).',
        ),
      );
      return;
    }
    if (!response.ok) {
      section.append(el('p', { className: 'status error' }, `Sweeps: ${errorText(response)}`));
      return;
    }
    const items = response.body.items || [];
    section.append(
      el(
        'p',
        { className: 'muted' },
        `${formatNumber(response.body.total)} sweep(s); the newest ${items.length}:`,
      ),
      table(
        ['sweep', 'status', 'strategy', 'combinations', 'progress', 'created'],
        items.map((sweep) =>
          el(
            'tr',
            { 'data-sweep': sweep.sweep_id },
            el(
              'td',
              {},
              el('a', { href: `/ui/sweeps/${sweep.sweep_id}` }, String(sweep.sweep_id).slice(0, 8)),
            ),
            el('td', {}, sweep.status),
            el('td', {}, sweep.strategy || '—'),
            el('td', { className: 'number' }, formatNumber(sweep.combinations)),
            el(
              'td',
              { className: 'number' },
              sweep.progress === undefined ? '—' : `${Math.round(sweep.progress * 100)} %`,
            ),
            el('td', {}, formatTime(sweep.created_at || sweep.finished_at)),
          ),
        ),
      ),
    );
  }

  Promise.all([showRuns(), showSweeps()])
    .then(() => setState('done'))
    .catch((error) => {
      setState('error');
      setStatus(`The page failed: ${error.message}`, true);
    });
})();
