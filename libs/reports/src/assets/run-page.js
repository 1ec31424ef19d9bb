'use strict';
// The report of one run: per symbol a candlestick chart with every entry and exit marked, its
// equity and drawdown in panes under it, the stats and a sortable trades table; the portfolio
// on top. Live (/ui/runs/{id}): data from the API, detail candles fetched as you zoom, progress
// while the task runs. Static (cli --report): the same drawing from data in the page.
(function () {
  const { config, api, apiJson, streamEvents, el, formatNumber, formatTime } = window.Report;
  const { figuresTable, sortableTable, setStatus, setState, errorText } = window.Report;
  const Charts = window.LightweightCharts;

  const TIMEFRAME_SECONDS = {
    '1M': 60,
    '3M': 180,
    '5M': 300,
    '10M': 600,
    '15M': 900,
    '30M': 1800,
    '1H': 3600,
    '4H': 14400,
    '1D': 86400,
    '1W': 604800,
  };
  /** GET /api/data/candles answers at most this many. */
  const WINDOW_LIMIT = 20000;
  const UP = '#26a69a';
  const DOWN = '#ef5350';

  const content = document.getElementById('content');

  /** chart.json writes times as delta seconds: a running sum gives them back. */
  function decodeTimes(deltas) {
    const times = new Array(deltas.length);
    let time = 0;
    for (let i = 0; i < deltas.length; i++) times[i] = time += deltas[i];
    return times;
  }

  /** The index of the last time <= t (times ascending), or 0. */
  function barAt(times, t) {
    let low = 0;
    let high = times.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (times[middle] <= t) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  function candlesOf(columns, times) {
    return times.map((time, i) => ({
      time,
      open: columns.open[i],
      high: columns.high[i],
      low: columns.low[i],
      close: columns.close[i],
    }));
  }

  function volumesOf(columns, times) {
    return times.map((time, i) => ({
      time,
      value: columns.volume[i],
      color: columns.close[i] >= columns.open[i] ? 'rgba(38,166,154,0.35)' : 'rgba(239,83,80,0.35)',
    }));
  }

  /**
   * Markers for the bars `times` shows: one per entry and exit at its candle (snapped to the
   * overview bar holding it), or, past the cap, one per bar carrying the count.
   */
  function markersFor(symbol, times, entries, exits, window) {
    const markers = [];
    if (entries) {
      const inWindow = (t) => !window || (t >= window.from && t < window.to);
      for (const t of entries) {
        if (inWindow(t)) {
          markers.push({
            time: times[barAt(times, t)],
            position: 'belowBar',
            shape: 'arrowUp',
            color: UP,
            id: 'entry',
          });
        }
      }
      for (const t of exits) {
        if (inWindow(t)) {
          markers.push({
            time: times[barAt(times, t)],
            position: 'aboveBar',
            shape: 'arrowDown',
            color: DOWN,
            id: 'exit',
          });
        }
      }
    } else {
      const counts = symbol.marker_counts;
      const barTimes = decodeTimes(symbol.overview.time);
      barTimes.forEach((time, bar) => {
        if (counts.entries[bar] > 0 && (!window || (time >= window.from && time < window.to))) {
          markers.push({
            time: times[barAt(times, time)],
            position: 'belowBar',
            shape: 'arrowUp',
            color: UP,
            id: 'entry',
            text: String(counts.entries[bar]),
          });
        }
        if (counts.exits[bar] > 0 && (!window || (time >= window.from && time < window.to))) {
          markers.push({
            time: times[barAt(times, time)],
            position: 'aboveBar',
            shape: 'arrowDown',
            color: DOWN,
            id: 'exit',
            text: String(counts.exits[bar]),
          });
        }
      });
    }
    return markers.sort((a, b) => a.time - b.time);
  }

  /** Enough decimals for the symbol's prices: 0.0902 BTC needs six, 30,000 KRW two. */
  function priceFormatOf(closes) {
    let largest = 0;
    for (const close of closes) largest = Math.max(largest, Math.abs(close));
    const precision =
      largest >= 1000
        ? 2
        : largest >= 1
          ? 4
          : Math.min(10, 4 + Math.ceil(-Math.log10(largest || 1)));
    return { type: 'price', precision, minMove: 10 ** -precision };
  }

  /** One symbol's chart: candles (pane 0), equity (pane 1), drawdown (pane 2). */
  function drawSymbol(run, symbol, container, legend) {
    const chart = Charts.createChart(container, {
      autoSize: true,
      layout: { background: { color: '#ffffff' }, textColor: '#3e4c59', attributionLogo: false },
      grid: { vertLines: { color: '#f0f3f7' }, horzLines: { color: '#f0f3f7' } },
      // A window of up to 20,000 candles must fit the width when zoomed out over it.
      timeScale: { timeVisible: true, secondsVisible: false, minBarSpacing: 0.01 },
      crosshair: { mode: 0 },
    });
    const candles = chart.addSeries(Charts.CandlestickSeries, {
      priceFormat: priceFormatOf(symbol.overview.close),
      upColor: UP,
      downColor: DOWN,
      borderVisible: false,
      wickUpColor: UP,
      wickDownColor: DOWN,
    });
    const volume = chart.addSeries(Charts.HistogramSeries, {
      priceScaleId: 'volume',
      priceFormat: { type: 'volume' },
      lastValueVisible: false,
      priceLineVisible: false,
    });
    volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    const equity = chart.addSeries(
      Charts.LineSeries,
      {
        color: '#2962ff',
        lineWidth: 2,
        priceFormat: { type: 'price', precision: 4, minMove: 1e-4 },
      },
      1,
    );
    const drawdown = chart.addSeries(
      Charts.AreaSeries,
      {
        lineColor: DOWN,
        // The drawdown hangs from 0: fill between the line and the top of its pane.
        invertFilledArea: true,
        topColor: 'rgba(239,83,80,0.45)',
        bottomColor: 'rgba(239,83,80,0.05)',
        lineWidth: 1,
        priceFormat: { type: 'percent', precision: 2, minMove: 0.01 },
      },
      2,
    );
    // Relative sizes: the chart sizes itself to its box (autoSize) after this runs.
    const [pricePane, equityPane, drawdownPane] = chart.panes();
    pricePane.setStretchFactor(0.62);
    equityPane.setStretchFactor(0.23);
    drawdownPane.setStretchFactor(0.15);

    const overviewTimes = decodeTimes(symbol.overview.time);
    const entries = symbol.trades && decodeTimes(symbol.trades.entry_time);
    const exits = symbol.trades && decodeTimes(symbol.trades.exit_time);
    candles.setData(candlesOf(symbol.overview, overviewTimes));
    volume.setData(volumesOf(symbol.overview, overviewTimes));
    equity.setData(overviewTimes.map((time, i) => ({ time, value: symbol.equity.equity[i] })));
    drawdown.setData(
      overviewTimes.map((time, i) => ({ time, value: -symbol.equity.drawdown_pct[i] })),
    );
    const markers = Charts.createSeriesMarkers(
      candles,
      markersFor(symbol, overviewTimes, entries, exits, null),
    );
    describeMarkers(container, legend, symbol, markers.markers(), 'overview');
    chart.timeScale().fitContent();
    // Again once the chart has its size (autoSize measures it after this frame).
    requestAnimationFrame(() => chart.timeScale().fitContent());
    if (config.mode === 'live' && symbol.bucket_candles > 1) {
      zoomWithDetail(run, symbol, chart, candles, volume, markers, {
        container,
        legend,
        overviewTimes,
        entries,
        exits,
      });
    }
    return chart;
  }

  /** What the markers show, in words, and as data-* for tests. */
  function describeMarkers(container, legend, symbol, markers, view) {
    let entryCount = 0;
    let exitCount = 0;
    for (const marker of markers) {
      const count = marker.text ? Number(marker.text) : 1;
      if (marker.id === 'entry') entryCount += count;
      else exitCount += count;
    }
    container.dataset.entryMarkers = String(symbol.trades ? entryCount : 0);
    container.dataset.exitMarkers = String(symbol.trades ? exitCount : 0);
    container.dataset.entryCount = String(entryCount);
    container.dataset.exitCount = String(exitCount);
    container.dataset.view = view;
    const how = symbol.trades
      ? 'one marker each'
      : `counted per bar (more than ${formatNumber(config.maxMarkers || 10000)} markers)`;
    const bars =
      view === 'overview'
        ? `${formatNumber(symbol.overview.open.length)} bars of ${formatNumber(symbol.bucket_candles)} candle(s)`
        : `${view}`;
    legend.replaceChildren(
      `${formatNumber(symbol.candles)} candles, ${bars} · ${formatNumber(symbol.trade_count)} trades: `,
      el('span', { className: 'entry' }, `▲ ${formatNumber(entryCount)} entries`),
      ', ',
      el('span', { className: 'exit' }, `▼ ${formatNumber(exitCount)} exits`),
      ` (${how}) · equity: ${symbol.equity.basis.replace('_', ' ')}, drawdown %`,
    );
  }

  /**
   * Zoomed in far enough that the candles fit one window, the overview bars give way to the
   * candles themselves (GET /api/data/candles); zoomed back out, the overview returns.
   */
  function zoomWithDetail(run, symbol, chart, candles, volume, markers, view) {
    const step = TIMEFRAME_SECONDS[run.timeframe] || 60;
    const timeScale = chart.timeScale();
    let detail = null;
    let applying = false;
    let timer = null;
    let generation = 0;

    function showOverview() {
      detail = null;
      applying = true;
      const range = timeScale.getVisibleRange();
      candles.setData(candlesOf(symbol.overview, view.overviewTimes));
      volume.setData(volumesOf(symbol.overview, view.overviewTimes));
      markers.setMarkers(markersFor(symbol, view.overviewTimes, view.entries, view.exits, null));
      if (range) timeScale.setVisibleRange(range);
      describeMarkers(view.container, view.legend, symbol, markers.markers(), 'overview');
      applying = false;
    }

    async function showDetail(range) {
      const span = range.to - range.from;
      const from = Math.floor(range.from - span / 2);
      const to = Math.ceil(range.to + span / 2 + step);
      const mine = ++generation;
      const query = new URLSearchParams({
        symbol: symbol.symbol,
        timeframe: run.timeframe,
        from: new Date(from * 1000).toISOString(),
        to: new Date(to * 1000).toISOString(),
        limit: String(WINDOW_LIMIT),
      });
      const response = await apiJson(`/api/data/candles?${query}`);
      if (mine !== generation) return;
      if (!response.ok) {
        setStatus(`Could not load candles for ${symbol.symbol}: ${errorText(response)}`, true);
        return;
      }
      const window = response.body;
      const times = decodeTimes(window.time);
      if (times.length === 0) return;
      const last = window.truncated ? times[times.length - 1] : to;
      detail = { from: times[0], to: last };
      applying = true;
      candles.setData(candlesOf(window, times));
      volume.setData(volumesOf(window, times));
      markers.setMarkers(
        markersFor(symbol, times, view.entries, view.exits, { from: times[0], to: last + step }),
      );
      // The whole series asked for (zoomed out over little data): show all of it.
      if (range.from <= view.overviewTimes[0] && range.to >= view.overviewTimes.at(-1)) {
        timeScale.fitContent();
      } else {
        timeScale.setVisibleRange(range);
      }
      describeMarkers(
        view.container,
        view.legend,
        symbol,
        markers.markers(),
        `detail: ${formatNumber(times.length)} candles from ${formatTime(times[0])}`,
      );
      applying = false;
    }

    function onRange() {
      const range = timeScale.getVisibleRange();
      if (!range) return;
      const candlesInView = (range.to - range.from) / step;
      const covered = detail && range.from >= detail.from && range.to <= detail.to;
      if (candlesInView <= WINDOW_LIMIT / 2) {
        if (!covered) void showDetail(range);
      } else if (detail) {
        generation++;
        showOverview();
      }
    }

    timeScale.subscribeVisibleTimeRangeChange(() => {
      if (applying) return;
      clearTimeout(timer);
      timer = setTimeout(onRange, 250);
    });
  }

  /** Waits until the browser has painted what was just drawn (two animation frames). */
  function afterPaint() {
    return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  }

  /** Draws every symbol's chart, the first one at once; resolves once the first is painted. */
  async function renderCharts(run) {
    config.maxMarkers = run.max_markers;
    const sections = new Map();
    for (const symbol of run.symbols) {
      const container = el('div', { className: 'chart', 'data-symbol': symbol.symbol });
      const legend = el('p', { className: 'legend' });
      const section = el(
        'section',
        { className: 'card symbol', id: `symbol-${symbol.symbol}` },
        el('h2', {}, symbol.symbol),
        legend,
        container,
        el(
          'div',
          { className: 'columns' },
          el('div', { className: 'stats' }),
          el('div', { className: 'trades' }),
        ),
      );
      content.append(section);
      sections.set(symbol.symbol, { section, container, legend });
    }
    const [first, ...others] = run.symbols;
    if (first)
      drawSymbol(
        run,
        first,
        sections.get(first.symbol).container,
        sections.get(first.symbol).legend,
      );
    await afterPaint();
    performance.mark('first-chart');
    window.firstChartAt = performance.now();
    for (const symbol of others) {
      drawSymbol(
        run,
        symbol,
        sections.get(symbol.symbol).container,
        sections.get(symbol.symbol).legend,
      );
      await afterPaint();
    }
    document.body.dataset.charts = 'drawn';
    return sections;
  }

  /** The portfolio on top; per symbol its stats and trades, under its chart. */
  function renderResult(result, sections) {
    const portfolio = document.getElementById('portfolio');
    const active = result.symbols.filter((symbol) => symbol.is_active !== false).length;
    portfolio.replaceChildren(
      el('h2', {}, 'Portfolio'),
      el(
        'p',
        { className: 'muted' },
        `${active} of ${result.symbols.length} symbol(s) active, equal capital each · ${formatNumber(result.total_signals)} trades · positions ${result.execution.positions}, fee ${result.execution.fee}, slippage ${result.execution.slippage}`,
      ),
      figuresTable(result.portfolio),
      result.symbols_failed.length > 0
        ? el(
            'p',
            { className: 'muted' },
            `No candles: ${result.symbols_failed.map((failed) => failed.symbol).join(', ')}`,
          )
        : '',
    );
    portfolio.hidden = false;
    for (const symbol of result.symbols) {
      let place = sections.get(symbol.symbol);
      if (!place) {
        // Drawn without chart data (a run from before chart.json): figures and trades only.
        const section = el(
          'section',
          { className: 'card symbol', id: `symbol-${symbol.symbol}` },
          el('h2', {}, symbol.symbol),
          el(
            'div',
            { className: 'columns' },
            el('div', { className: 'stats' }),
            el('div', { className: 'trades' }),
          ),
        );
        content.append(section);
        place = { section };
      }
      const { signals, performance_curve: _curve, stats, symbol: _name, ...metrics } = symbol;
      place.section
        .querySelector('.stats')
        .replaceChildren(
          el('h3', {}, symbol.is_active === false ? 'Statistics (inactive)' : 'Statistics'),
          figuresTable({ ...metrics, ...stats }),
        );
      place.section
        .querySelector('.trades')
        .replaceChildren(
          el('h3', {}, `Trades (${formatNumber(signals.length)})`),
          tradesTable(signals),
        );
    }
    document.body.dataset.tables = 'drawn';
  }

  function tradesTable(signals) {
    const time = (key) => (row) => row[key];
    const number =
      (key, scale = 1) =>
      (row) =>
        row[key] * scale;
    return sortableTable(
      [
        { label: '#', value: (row) => row.n, numeric: true },
        { label: 'entry', value: time('timestamp'), format: formatTime },
        { label: 'exit', value: time('exit_timestamp'), format: formatTime },
        { label: 'entry price', value: number('entry_price'), numeric: true },
        { label: 'exit price', value: number('exit_price'), numeric: true },
        { label: 'hold bars', value: number('hold_bars'), numeric: true },
        { label: 'return %', value: number('return_pct', 100), numeric: true },
        { label: 'confidence', value: number('confidence'), numeric: true },
      ],
      signals.map((signal, index) => ({ ...signal, n: index + 1 })),
    );
  }

  function describeRun(run) {
    const subtitle = document.getElementById('subtitle');
    subtitle.textContent = `${run.strategy} · ${run.timeframe} · ${run.start_date} – ${run.end_date} (KST) · positions ${run.positions}`;
  }

  /** Follows a task that has not finished: its events until it completes, fails or is cancelled. */
  async function followTask(runId) {
    const progress = el('progress', { max: 1, value: 0 });
    const label = el('span', {});
    const status = document.getElementById('status');
    status.hidden = false;
    status.className = 'status';
    status.replaceChildren('Task ', label, ' ', progress);
    let final = null;
    for (let attempt = 0; final === null && attempt < 100; attempt++) {
      const code = await streamEvents(`/api/backtests/status/${runId}/events`, (event) => {
        setState(event.status);
        label.textContent = `${event.status} — ${Math.round(event.progress * 100)} %`;
        progress.value = event.progress;
        if (['completed', 'failed', 'cancelled'].includes(event.status)) final = event;
      }).catch(() => 0);
      if (code === 404) return null;
      if (final === null) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    return final;
  }

  async function showLiveRun(runId) {
    setState('loading');
    // chart.json first: a completed run needs nothing else before its first chart (the task's
    // status would carry the whole result document). Only without it is the task asked about.
    let chart = await apiJson(`/api/backtests/${runId}/chart.json`);
    if (chart.status === 404) {
      const status = await apiJson(`/api/backtests/status/${runId}`);
      if (status.status === 404) {
        setState('missing');
        setStatus(`No run ${runId}: ${errorText(status)}`, true);
        return;
      }
      if (!status.ok) throw new Error(errorText(status));
      let final = status.body;
      if (final.status === 'queued' || final.status === 'running') {
        setState(final.status);
        final = await followTask(runId);
        if (final && final.status === 'completed') {
          chart = await apiJson(`/api/backtests/${runId}/chart.json`);
        }
      }
      if (!final || final.status !== 'completed') {
        setState(final ? final.status : 'missing');
        setStatus(
          `The run ${final ? final.status : 'is gone'}${final && final.error ? `: ${final.error}` : ''}`,
          true,
        );
        return;
      }
    }
    setStatus('');
    let sections = new Map();
    if (chart.ok) {
      describeRun(chart.body);
      sections = await renderCharts(chart.body);
    } else {
      setStatus(`No charts: ${errorText(chart)}`, true);
    }
    // The document (with every signal) can be large: it comes after the first chart.
    const result = await apiJson(`/api/backtests/${runId}`);
    if (!result.ok) {
      setStatus(`Could not load the result: ${errorText(result)}`, true);
      return;
    }
    if (!chart.ok) describeRun({ ...result.body, positions: result.body.execution.positions });
    renderResult(result.body, sections);
    setState('done');
  }

  async function main() {
    if (config.mode === 'static') {
      const data = JSON.parse(document.getElementById('report-data').textContent);
      describeRun(data.chart);
      const sections = await renderCharts(data.chart);
      renderResult(data.result, sections);
      setState('done');
      return;
    }
    await showLiveRun(config.runId);
  }

  main().catch((error) => {
    setState('error');
    setStatus(`The report failed: ${error.message}`, true);
  });
})();
