'use strict';
// What every report page shares: the page's configuration, the API client (the key travels in
// the X-API-Key header, never in a URL), a fetch-based event-stream reader (EventSource cannot
// send headers), number formatting and sortable tables. Pages read it as window.Report.
(function () {
  const KEY_STORAGE = 'coin-backtest-api-key';
  const config = JSON.parse(document.getElementById('page-config').textContent);

  function storedKey() {
    try {
      return sessionStorage.getItem(KEY_STORAGE);
    } catch {
      return null;
    }
  }

  /** One prompt at a time, however many requests are waiting for the key. */
  let keyPrompt = null;
  function askForKey(message) {
    if (keyPrompt) return keyPrompt;
    keyPrompt = new Promise((resolve) => {
      const form = document.getElementById('key-form');
      const input = form.querySelector('input');
      form.querySelector('.key-message').textContent = message;
      form.hidden = false;
      input.value = '';
      input.focus();
      form.onsubmit = (event) => {
        event.preventDefault();
        const key = input.value.trim();
        if (key === '') return;
        sessionStorage.setItem(KEY_STORAGE, key);
        form.hidden = true;
        keyPrompt = null;
        resolve();
      };
    });
    return keyPrompt;
  }

  /** fetch with the key; a 401 asks for the key (once for every waiting request) and tries again. */
  async function api(path, init = {}) {
    for (;;) {
      const headers = new Headers(init.headers);
      const key = storedKey();
      if (key) headers.set('X-API-Key', key);
      const response = await fetch(path, { ...init, headers });
      if (response.status !== 401) return response;
      const body = await response.json().catch(() => ({}));
      if (key) sessionStorage.removeItem(KEY_STORAGE);
      await askForKey(
        key
          ? `The API refused that key (${body.message || 'unauthorised'}). Enter the API key:`
          : 'This server needs an API key for its data. Enter it (kept for this tab only):',
      );
    }
  }

  async function apiJson(path, init) {
    const response = await api(path, init);
    const body = await response.json().catch(() => null);
    return { status: response.status, ok: response.ok, body };
  }

  /**
   * Reads a text/event-stream answer and calls onEvent with each event's parsed data. Resolves
   * with the HTTP status when the stream ends (the server ends it after a final state).
   */
  async function streamEvents(path, onEvent, signal) {
    const response = await api(path, { headers: { Accept: 'text/event-stream' }, signal });
    if (!response.ok || !response.body) return response.status;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return response.status;
      buffer += value.replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).replace(/^ /, ''))
          .join('\n');
        if (data !== '') onEvent(JSON.parse(data));
      }
    }
  }

  /** document.createElement with properties, attributes (data-*, aria-*) and children. */
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props)) {
      if (value === undefined || value === null) continue;
      if (name.startsWith('data-') || name.startsWith('aria-')) node.setAttribute(name, value);
      else node[name] = value;
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) {
        node.append(child instanceof Node ? child : String(child));
      }
    }
    return node;
  }

  /** Replaces a node's children, leaving out the null and false ones (parts not shown). */
  function fill(node, ...children) {
    node.replaceChildren(...children.flat().filter((child) => child !== null && child !== false));
    return node;
  }

  const numberFormat = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 6 });
  const integerFormat = new Intl.NumberFormat('en-US');

  /** A figure as a person reads it; null (undefined, not finite) as a dash. */
  function formatNumber(value) {
    if (value === null || value === undefined) return '—';
    if (typeof value !== 'number') return String(value);
    return Number.isInteger(value) ? integerFormat.format(value) : numberFormat.format(value);
  }

  /** ISO time without the seconds' fraction, UTC. */
  function formatTime(value) {
    const iso = typeof value === 'number' ? new Date(value * 1000).toISOString() : value;
    return iso ? iso.replace('T', ' ').replace(/:\d\d\.\d{3}Z$/, ' UTC') : '—';
  }

  /** Figures by name in a grid; each value keeps the exact figure in data-value. */
  function figuresTable(figures) {
    return el(
      'dl',
      { className: 'figures' },
      Object.entries(figures).map(([name, value]) =>
        el(
          'div',
          {},
          el('dt', {}, name),
          el(
            'dd',
            { 'data-figure': name, 'data-value': JSON.stringify(value) },
            formatNumber(value),
          ),
        ),
      ),
    );
  }

  /**
   * A table sorted by clicking a column heading, a page of rows at a time. `columns`: {label,
   * value(row) → sortable value, format(value) → text, numeric}.
   */
  function sortableTable(columns, rows, pageSize = 100) {
    let order = rows.map((_, index) => index);
    let sortColumn = -1;
    let descending = false;
    let page = 0;
    const body = el('tbody');
    const info = el('span', { className: 'muted' });
    const previous = el('button', { type: 'button', textContent: '‹ Previous' });
    const next = el('button', { type: 'button', textContent: 'Next ›' });
    const headings = columns.map((column, index) =>
      el(
        'th',
        { scope: 'col' },
        el('button', { type: 'button', onclick: () => sortBy(index) }, column.label),
      ),
    );
    function sortBy(index) {
      descending = sortColumn === index ? !descending : false;
      sortColumn = index;
      const value = columns[index].value;
      order.sort((a, b) => {
        const x = value(rows[a]);
        const y = value(rows[b]);
        const compared = x === y ? a - b : x === null ? 1 : y === null ? -1 : x < y ? -1 : 1;
        return descending && x !== y ? -compared : compared;
      });
      headings.forEach((heading, i) =>
        i === index
          ? heading.setAttribute('aria-sort', descending ? 'descending' : 'ascending')
          : heading.removeAttribute('aria-sort'),
      );
      page = 0;
      render();
    }
    function render() {
      const first = page * pageSize;
      const shown = order.slice(first, first + pageSize);
      body.replaceChildren(
        ...shown.map((index) =>
          el(
            'tr',
            {},
            columns.map((column) => {
              const value = column.value(rows[index]);
              return el(
                'td',
                { className: column.numeric ? 'number' : '' },
                (column.format || formatNumber)(value),
              );
            }),
          ),
        ),
      );
      info.textContent =
        rows.length === 0
          ? 'no rows'
          : `rows ${first + 1}–${first + shown.length} of ${integerFormat.format(rows.length)}`;
      previous.disabled = page === 0;
      next.disabled = first + pageSize >= rows.length;
    }
    previous.onclick = () => {
      page -= 1;
      render();
    };
    next.onclick = () => {
      page += 1;
      render();
    };
    render();
    return el(
      'div',
      {},
      el(
        'div',
        { className: 'table-scroll' },
        el('table', { className: 'sortable' }, el('thead', {}, el('tr', {}, headings)), body),
      ),
      el('div', { className: 'pager' }, previous, next, info),
    );
  }

  /** The page's status line: what is happening, or what went wrong. */
  function setStatus(text, isError = false) {
    const status = document.getElementById('status');
    status.hidden = text === '';
    status.className = isError ? 'status error' : 'status';
    status.replaceChildren(text);
  }

  /** Sets the page's state for people (the status line) and for tests (body[data-state]). */
  function setState(state) {
    document.body.dataset.state = state;
  }

  /** An API error body as one sentence. */
  function errorText(response) {
    const body = response.body || {};
    return body.detail || body.message || `HTTP ${response.status}`;
  }

  window.Report = {
    config,
    api,
    apiJson,
    streamEvents,
    el,
    fill,
    formatNumber,
    formatTime,
    figuresTable,
    sortableTable,
    setStatus,
    setState,
    errorText,
  };
})();
