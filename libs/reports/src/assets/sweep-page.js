'use strict';
// The report of a parameter sweep (SPEC §13): a heatmap of the objective over two parameters
// (?x=&y=; the others held at the best combination's values), the top table, in-sample
// against out-of-sample, filling in while chunks finish. Live: GET /api/sweeps/{id} and its
// events; static (cli sweep --report): the same drawing from the answer in the page.
(function () {
  const { config, apiJson, streamEvents, el, fill, formatNumber, figuresTable } = window.Report;
  const { sortableTable, setStatus, setState, errorText } = window.Report;
  const TERMINAL = ['completed', 'failed', 'cancelled'];

  /**
   * What the page needs of a sweep, in one place: §13 gives `best`, `top` (each with `index`,
   * `params` and its figures, with `in_sample`/`out_of_sample` under holdout) and `validation`;
   * the request (objective, grid, symbols...) when the answer carries it.
   */
  function viewOf(sweep) {
    const request = sweep.request || {};
    const objective = sweep.objective || request.objective || 'total_return_pct';
    const top = Array.isArray(sweep.top) ? sweep.top : [];
    const best = sweep.best || top[0] || null;
    const items = best && !top.some((item) => item.index === best.index) ? [best, ...top] : top;
    const names = [];
    for (const item of items) {
      for (const name of Object.keys(item.params || {}))
        if (!names.includes(name)) names.push(name);
    }
    const varying = names.filter(
      (name) => new Set(items.map((item) => item.params?.[name])).size > 1,
    );
    const pick = (wanted, fallbackIndex, other) =>
      names.includes(wanted)
        ? wanted
        : (varying.filter((name) => name !== other)[fallbackIndex] ?? null);
    const x = pick(config.x, 0, null);
    const y = pick(config.y, 0, x);
    return { sweep, request, objective, top, best, items, names, x, y };
  }

  /** A figure of an item (or of one of its windows): flat, or under `portfolio`/`figures`. */
  function figure(figures, name) {
    if (!figures) return null;
    for (const value of [figures[name], figures.portfolio?.[name], figures.figures?.[name]]) {
      if (typeof value === 'number') return value;
    }
    if (name !== 'score' && typeof figures.score === 'number' && figures.objective === name) {
      return figures.score;
    }
    return null;
  }

  /** The values a grid axis takes: from the request's grid when known, else those seen. */
  function axisValues(view, name) {
    const grid = view.request.grid?.[name];
    if (Array.isArray(grid)) return [...grid].sort((a, b) => a - b);
    if (grid && typeof grid.from === 'number' && grid.step > 0) {
      const decimals = (String(grid.step).split('.')[1] || '').length;
      const values = [];
      for (let k = 0; grid.from + k * grid.step <= grid.to + 1e-12 && k < 1000; k++) {
        values.push(Number((grid.from + k * grid.step).toFixed(decimals)));
      }
      return values;
    }
    return [...new Set(view.items.map((item) => item.params?.[name]))]
      .filter((value) => value !== undefined)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Diverging colours around 0 for signed figures, one hue for figures that are never negative. */
  function colourOf(value, low, high) {
    if (value === null) return '#e4e7eb';
    if (low < 0 && high > 0) {
      const t = value >= 0 ? value / high : -value / -low;
      return value >= 0
        ? `rgba(38,166,154,${0.15 + 0.85 * t})`
        : `rgba(239,83,80,${0.15 + 0.85 * t})`;
    }
    const t = high === low ? 1 : (value - low) / (high - low);
    return `rgba(41,98,255,${0.15 + 0.85 * t})`;
  }

  /** Sizes a canvas's backing store to its CSS box and the screen's pixel ratio. */
  function contextOf(canvas) {
    const ratio = window.devicePixelRatio || 1;
    const { width, height } = canvas.getBoundingClientRect();
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const context = canvas.getContext('2d');
    context.scale(ratio, ratio);
    return { context, width, height };
  }

  function drawHeatmap(view, canvas, tooltip) {
    const { x, y, best, objective } = view;
    const xs = axisValues(view, x);
    const ys = axisValues(view, y);
    const held = view.names.filter((name) => name !== x && name !== y);
    const cells = new Map();
    for (const item of view.items) {
      const sameOthers = held.every((name) => item.params?.[name] === best.params?.[name]);
      if (sameOthers) cells.set(`${item.params[x]}|${item.params[y]}`, item);
    }
    const values = [...cells.values()]
      .map((item) => figure(item, objective))
      .filter((v) => v !== null);
    const low = Math.min(0, ...values);
    const high = Math.max(0, ...values);
    const { context, width, height } = contextOf(canvas);
    const left = 70;
    const bottom = 40;
    const cellWidth = (width - left - 10) / Math.max(1, xs.length);
    const cellHeight = (height - bottom - 10) / Math.max(1, ys.length);
    context.font = '11px system-ui, sans-serif';
    context.fillStyle = '#ffffff';
    context.fillRect(0, 0, width, height);
    xs.forEach((xValue, i) => {
      ys.forEach((yValue, j) => {
        const item = cells.get(`${xValue}|${yValue}`);
        const value = item ? figure(item, objective) : null;
        const cx = left + i * cellWidth;
        const cy = 10 + (ys.length - 1 - j) * cellHeight;
        context.fillStyle = colourOf(value, low, high);
        context.fillRect(cx + 1, cy + 1, cellWidth - 2, cellHeight - 2);
        if (item && item.index === best.index) {
          context.strokeStyle = '#1f2933';
          context.lineWidth = 2;
          context.strokeRect(cx + 2, cy + 2, cellWidth - 4, cellHeight - 4);
        }
      });
    });
    context.fillStyle = '#3e4c59';
    context.textAlign = 'center';
    const xEvery = Math.ceil(xs.length / 12);
    xs.forEach((value, i) => {
      if (i % xEvery === 0)
        context.fillText(String(value), left + (i + 0.5) * cellWidth, height - bottom + 14);
    });
    context.fillText(x, left + (width - left) / 2, height - 6);
    context.textAlign = 'right';
    const yEvery = Math.ceil(ys.length / 12);
    ys.forEach((value, j) => {
      if (j % yEvery === 0)
        context.fillText(String(value), left - 6, 10 + (ys.length - 0.5 - j) * cellHeight + 4);
    });
    context.save();
    context.translate(12, 10 + (height - bottom) / 2);
    context.rotate(-Math.PI / 2);
    context.textAlign = 'center';
    context.fillText(y, 0, 0);
    context.restore();
    canvas.dataset.cells = String(cells.size);
    canvas.onmousemove = (event) => {
      const box = canvas.getBoundingClientRect();
      const i = Math.floor((event.clientX - box.left - left) / cellWidth);
      const j = ys.length - 1 - Math.floor((event.clientY - box.top - 10) / cellHeight);
      const item =
        i >= 0 && i < xs.length && j >= 0 && j < ys.length ? cells.get(`${xs[i]}|${ys[j]}`) : null;
      tooltip.hidden = !(i >= 0 && i < xs.length && j >= 0 && j < ys.length);
      tooltip.textContent = `${x} = ${xs[i]}, ${y} = ${ys[j]}: ${item ? formatNumber(figure(item, objective)) : 'not in the top list'}`;
      tooltip.style.left = `${event.clientX + 12}px`;
      tooltip.style.top = `${event.clientY + 12}px`;
    };
    canvas.onmouseleave = () => (tooltip.hidden = true);
    return { xs, ys, held, cells: cells.size };
  }

  /** In-sample objective (x) against out-of-sample (y) for the combinations that have both. */
  function drawScatter(view, canvas) {
    const points = view.items
      .map((item) => [
        figure(item.in_sample, view.objective),
        figure(item.out_of_sample, view.objective),
        item,
      ])
      .filter(([a, b]) => a !== null && b !== null);
    const { context, width, height } = contextOf(canvas);
    context.fillStyle = '#ffffff';
    context.fillRect(0, 0, width, height);
    if (points.length === 0) return 0;
    const all = points.flatMap(([a, b]) => [a, b]);
    let low = Math.min(...all);
    let high = Math.max(...all);
    if (low === high) [low, high] = [low - 1, high + 1];
    const pad = 40;
    const sx = (v) => pad + ((v - low) / (high - low)) * (width - 2 * pad);
    const sy = (v) => height - pad - ((v - low) / (high - low)) * (height - 2 * pad);
    context.strokeStyle = '#cbd2d9';
    context.beginPath();
    context.moveTo(sx(low), sy(low));
    context.lineTo(sx(high), sy(high));
    context.stroke();
    for (const [a, b, item] of points) {
      context.fillStyle = item.index === view.best.index ? '#1f2933' : '#2962ff';
      context.beginPath();
      context.arc(sx(a), sy(b), 4, 0, 2 * Math.PI);
      context.fill();
    }
    context.fillStyle = '#3e4c59';
    context.font = '11px system-ui, sans-serif';
    context.textAlign = 'center';
    context.fillText(`in-sample ${view.objective}`, width / 2, height - 8);
    context.fillText(formatNumber(low), pad, height - pad + 14);
    context.fillText(formatNumber(high), width - pad, height - pad + 14);
    context.save();
    context.translate(12, height / 2);
    context.rotate(-Math.PI / 2);
    context.fillText(`out-of-sample ${view.objective}`, 0, 0);
    context.restore();
    return points.length;
  }

  function topTable(view) {
    const windows = view.items.some((item) => item.in_sample || item.out_of_sample);
    const columns = [
      { label: 'rank', value: (row) => row.rank, numeric: true },
      { label: 'index', value: (row) => row.item.index, numeric: true },
      ...view.names.map((name) => ({
        label: name,
        value: (row) => row.item.params?.[name] ?? null,
        numeric: true,
      })),
      { label: view.objective, value: (row) => figure(row.item, view.objective), numeric: true },
      { label: 'trades', value: (row) => figure(row.item, 'trades'), numeric: true },
    ];
    if (windows) {
      columns.push(
        {
          label: `in-sample ${view.objective}`,
          value: (row) => figure(row.item.in_sample, view.objective),
          numeric: true,
        },
        {
          label: `out-of-sample ${view.objective}`,
          value: (row) => figure(row.item.out_of_sample, view.objective),
          numeric: true,
        },
      );
    }
    return sortableTable(
      columns,
      view.top.map((item, index) => ({ item, rank: index + 1 })),
      50,
    );
  }

  function foldsTable(validation) {
    const folds = Array.isArray(validation?.folds) ? validation.folds : [];
    if (folds.length === 0) return null;
    return sortableTable(
      [
        { label: 'fold', value: (row) => row.fold ?? row.n, numeric: true },
        {
          label: 'chosen',
          value: (row) => JSON.stringify(row.params || row.best?.params || {}),
          format: String,
        },
        { label: 'in-sample', value: (row) => row.is ?? null, numeric: true },
        { label: 'out-of-sample', value: (row) => row.oos ?? null, numeric: true },
      ],
      folds.map((fold, n) => ({
        ...fold,
        n: n + 1,
        is:
          figure(fold.in_sample, validation.objective) ??
          figure(fold.in_sample, 'total_return_pct'),
        oos:
          figure(fold.out_of_sample, validation.objective) ??
          figure(fold.out_of_sample, 'total_return_pct'),
      })),
    );
  }

  const parts = {};
  function layout() {
    const content = document.getElementById('content');
    parts.summary = el('section', { className: 'card', id: 'summary' });
    parts.heatmap = el('canvas', { className: 'heatmap', id: 'heatmap' });
    parts.tooltip = el('div', { className: 'tooltip', hidden: true });
    parts.heatmapNote = el('p', { className: 'muted' });
    parts.axes = el('form', { className: 'actions', id: 'axes' });
    parts.scatter = el('canvas', { className: 'scatter', id: 'scatter' });
    parts.validation = el('section', { className: 'card', id: 'validation' });
    parts.top = el('section', { className: 'card', id: 'top' });
    parts.actions = el('section', { className: 'card', id: 'actions' });
    content.append(
      parts.summary,
      el(
        'section',
        { className: 'card' },
        el('h2', {}, 'Heatmap'),
        parts.axes,
        parts.heatmapNote,
        parts.heatmap,
      ),
      parts.top,
      parts.validation,
      parts.actions,
      parts.tooltip,
    );
  }

  function axisPicker(view) {
    const select = (name, chosen) =>
      el(
        'select',
        { name, onchange: () => redrawAxes() },
        view.names.map((param) =>
          el('option', { value: param, selected: param === chosen }, param),
        ),
      );
    const xSelect = select('x', view.x);
    const ySelect = select('y', view.y);
    function redrawAxes() {
      config.x = xSelect.value;
      config.y = ySelect.value;
      // The choice goes into the address, so the view can be shared.
      const url = new URL(window.location.href);
      url.searchParams.set('x', config.x);
      url.searchParams.set('y', config.y);
      if (url.protocol !== 'file:') window.history.replaceState(null, '', url);
      render(view.sweep);
    }
    parts.axes.replaceChildren(el('label', {}, 'x ', xSelect), el('label', {}, 'y ', ySelect));
  }

  function render(sweep) {
    const view = viewOf(sweep);
    const done = sweep.done ?? null;
    fill(
      parts.summary,
      el('h2', {}, `Sweep ${sweep.sweep_id}`),
      el(
        'p',
        { className: 'muted' },
        `${sweep.status} · ${formatNumber(done)} of ${formatNumber(sweep.combinations)} combinations · objective ${view.objective}`,
        view.request.strategy
          ? ` · ${view.request.strategy} on ${(view.request.symbols || []).join(', ')}`
          : '',
      ),
      el('progress', { max: 1, value: sweep.progress ?? 0 }),
      sweep.error ? el('p', { className: 'status error' }, String(sweep.error)) : null,
      view.best ? el('h3', {}, 'Best combination') : null,
      view.best
        ? figuresTable({
            index: view.best.index,
            ...view.best.params,
            [view.objective]: figure(view.best, view.objective),
          })
        : null,
    );
    if (view.best && view.x && view.y) {
      axisPicker(view);
      const drawn = drawHeatmap(view, parts.heatmap, parts.tooltip);
      parts.heatmapNote.textContent =
        `${view.objective} over ${view.x} × ${view.y}` +
        (drawn.held.length > 0
          ? `, ${drawn.held.map((name) => `${name} = ${view.best.params[name]}`).join(', ')} (the best's values)`
          : '') +
        ` · ${drawn.cells} of ${drawn.xs.length * drawn.ys.length} cells known (grey: not in the top list yet)`;
    } else {
      parts.heatmapNote.textContent = view.best
        ? 'A heatmap needs two parameters that vary.'
        : 'No combination has finished yet.';
    }
    parts.top.replaceChildren(el('h2', {}, `Top ${view.top.length}`), topTable(view));
    const validation = sweep.validation || null;
    const scatterNote = el('p', { className: 'muted' });
    parts.scatter.hidden = false;
    fill(
      parts.validation,
      el('h2', {}, 'In-sample against out-of-sample'),
      scatterNote,
      parts.scatter,
      validation && typeof validation === 'object'
        ? figuresTable(
            Object.fromEntries(
              Object.entries(validation).filter(
                ([, value]) => typeof value !== 'object' || value === null,
              ),
            ),
          )
        : null,
      foldsTable(validation),
    );
    // Drawn once in the page, where the canvas has its size.
    const compared = drawScatter(view, parts.scatter);
    parts.scatter.hidden = compared === 0;
    parts.scatter.dataset.points = String(compared);
    scatterNote.textContent =
      compared > 0
        ? `${compared} combination(s): in-sample ${view.objective} across, out-of-sample up; on the diagonal they agree.`
        : 'No out-of-sample figures (validation: none, or none yet).';
    document.body.dataset.heatmap = view.best ? 'drawn' : 'empty';
    renderActions(view);
  }

  function runRequestOf(view) {
    const { request, best } = view;
    if (!best || !request.strategy || !request.symbols) return null;
    return {
      strategy: request.strategy,
      symbols: request.symbols,
      timeframe: request.timeframe,
      start_date: request.start_date,
      end_date: request.end_date,
      params: { ...(request.params || {}), ...best.params },
      ...(request.execution ? { execution: request.execution } : {}),
    };
  }

  function renderActions(view) {
    if (config.mode === 'static') {
      parts.actions.hidden = true;
      return;
    }
    const outcome = el('p', { className: 'muted', id: 'action-outcome' });
    const runBody = runRequestOf(view);
    const runButton = el('button', {
      type: 'button',
      id: 'run-best',
      textContent: 'Run the best combination',
      disabled: runBody === null,
      title:
        runBody === null ? 'The sweep does not say its request (strategy, symbols, dates)' : '',
    });
    runButton.onclick = async () => {
      const response = await apiJson('/api/backtests/run-async', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(runBody),
      });
      if (response.ok) {
        outcome.replaceChildren(
          'Queued: ',
          el('a', { href: `/ui/runs/${response.body.task_id}` }, `run ${response.body.task_id}`),
        );
      } else {
        outcome.textContent = `The run was refused: ${errorText(response)}`;
      }
    };
    const name = el('input', {
      type: 'text',
      id: 'preset-name',
      placeholder: 'preset name',
      value: `${view.request.strategy || 'sweep'} best ${String(view.sweep.sweep_id).slice(0, 8)}`,
    });
    const saveButton = el('button', {
      type: 'button',
      id: 'save-preset',
      textContent: 'Save as preset',
      disabled: !view.best,
    });
    saveButton.onclick = async () => {
      const response = await apiJson('/api/strategies/presets', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          name: name.value.trim(),
          strategy: view.request.strategy,
          params: { ...(view.request.params || {}), ...view.best.params },
          description: `Best of sweep ${view.sweep.sweep_id} by ${view.objective}`,
        }),
      });
      outcome.textContent = response.ok
        ? `Saved as preset "${response.body.name}".`
        : `The preset was not saved (HTTP ${response.status}): ${errorText(response)}`;
    };
    parts.actions.replaceChildren(
      el('h2', {}, 'Use the best combination'),
      el('div', { className: 'actions' }, runButton, name, saveButton),
      outcome,
    );
  }

  async function followLive(id) {
    let latest = null;
    let pending = null;
    const refresh = async () => {
      const response = await apiJson(`/api/sweeps/${id}`);
      if (!response.ok)
        throw Object.assign(new Error(errorText(response)), { status: response.status });
      latest = response.body;
      setState(TERMINAL.includes(latest.status) ? 'done' : latest.status);
      render(latest);
      return latest;
    };
    await refresh();
    while (!TERMINAL.includes(latest.status)) {
      // Each event says a chunk moved; the sweep is re-read at most once a second.
      const code = await streamEvents(`/api/sweeps/${id}/events`, () => {
        pending ??= new Promise((resolve) => setTimeout(resolve, 1000)).then(() => {
          pending = null;
          return refresh();
        });
      }).catch(() => 0);
      await (pending || new Promise((resolve) => setTimeout(resolve, code === 200 ? 0 : 2000)));
      await refresh();
    }
  }

  async function main() {
    layout();
    if (config.mode === 'static') {
      render(JSON.parse(document.getElementById('report-data').textContent).sweep);
      setState('done');
      return;
    }
    try {
      await followLive(config.sweepId);
    } catch (error) {
      setState(error.status === 404 ? 'missing' : 'error');
      setStatus(
        error.status === 404
          ? `No sweep ${config.sweepId}: ${error.message}`
          : `The report failed: ${error.message}`,
        true,
      );
    }
  }

  main().catch((error) => {
    setState('error');
    setStatus(`The report failed: ${error.message}`, true);
  });
})();
