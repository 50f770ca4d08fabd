// The dashboard: polls /api/stats once a second and /health every five seconds, and draws the charts.
'use strict';

(() => {
  const $ = id => document.getElementById(id);
  const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

  const CLOSE_CODES = {
    1002: 'protocol error (bad frame)',
    1003: 'unsupported data (text to a trade handler)',
    1007: 'invalid payload (bad UTF-8)',
    1008: 'policy violation',
    1009: 'message too big',
    1011: 'handler error',
  };
  const HTTP_STATUS = {
    400: 'malformed handshake',
    405: 'not GET',
    408: 'handshake too slow',
    426: 'unsupported WebSocket version',
    431: 'handshake too large',
    503: 'at the connection limit',
  };

  function compact(value) {
    if (value === null || value === undefined) { return '–'; }
    const abs = Math.abs(value);
    if (abs >= 1e9) { return (value / 1e9).toFixed(abs >= 1e10 ? 1 : 2) + 'G'; }
    if (abs >= 1e6) { return (value / 1e6).toFixed(abs >= 1e7 ? 1 : 2) + 'M'; }
    if (abs >= 1e4) { return (value / 1e3).toFixed(abs >= 1e5 ? 0 : 1) + 'k'; }
    return integer.format(value);
  }

  function bytes(value) {
    if (value >= 1e9) { return (value / 1e9).toFixed(2) + ' GB'; }
    if (value >= 1e6) { return (value / 1e6).toFixed(2) + ' MB'; }
    if (value >= 1e3) { return (value / 1e3).toFixed(1) + ' kB'; }
    return integer.format(value) + ' B';
  }

  function micros(value) {
    if (value === null || value === undefined) { return '–'; }
    if (value === 0) { return '0'; }
    if (value >= 1e6) { return (value / 1e6).toFixed(2) + ' s'; }
    if (value >= 1e3) { return (value / 1e3).toFixed(value >= 1e4 ? 1 : 2) + ' ms'; }
    if (value >= 10) { return value.toFixed(0) + ' µs'; }
    return value.toFixed(value >= 1 ? 1 : 2) + ' µs';
  }

  function duration(seconds) {
    const s = Math.floor(seconds);
    const pad = n => String(n).padStart(2, '0');
    return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
  }

  function setNumber(id, value, text) {
    const element = $(id);
    element.dataset.value = String(value);
    element.textContent = text === undefined ? integer.format(value) : text;
  }

  const rateChart = new LineChart($('rate-chart'), {
    series: [
      { name: 'frames/s', color: '#4fb3ff', fill: true },
      { name: 'trades/s', color: '#f5a524' },
    ],
    format: compact,
  });
  const latencyChart = new LineChart($('latency-chart'), {
    series: [
      { name: 'p50', color: '#3fb950', fill: true },
      { name: 'p99', color: '#f85149' },
    ],
    format: micros,
  });

  function latencyRow(id, summary) {
    const cells = $(id).querySelectorAll('td.num');
    cells[0].textContent = integer.format(summary.count);
    [summary.p50, summary.p90, summary.p99, summary.max].forEach((v, i) => { cells[i + 1].textContent = micros(v); });
  }

  function errorRows(errors) {
    const rows = [
      ['decode', 'binary frame that is not a valid SBE trade or batch of trades', errors.decode],
      ['handler', 'exception thrown by a handler callback', errors.handler],
    ];
    for (const [code, count] of Object.entries(errors.protocolByCloseCode)) {
      rows.push([`close ${code}`, CLOSE_CODES[code] || 'connection closed by the gateway', count]);
    }
    if (Object.keys(errors.protocolByCloseCode).length === 0) {
      rows.push(['protocol', 'connection closed for a protocol or policy reason', errors.protocol]);
    }
    for (const [status, count] of Object.entries(errors.rejectedByStatus)) {
      rows.push([`refused ${status}`, HTTP_STATUS[status] || 'handshake refused', count]);
    }
    const body = $('errors-table').tBodies[0];
    body.replaceChildren(...rows.map(([kind, meaning, count]) => {
      const tr = document.createElement('tr');
      tr.className = count > 0 ? 'nonzero' : 'zero';
      tr.dataset.kind = kind;
      for (const [text, cls] of [[kind, ''], [meaning, ''], [integer.format(count), 'num']]) {
        const td = document.createElement('td');
        td.textContent = text;
        if (cls) { td.className = cls; }
        tr.appendChild(td);
      }
      return tr;
    }));
  }

  function render(stats) {
    const t = stats.totals;
    $('gateway-url').textContent = stats.gateway.url || 'not listening';
    setNumber('connections', t.connections);
    $('connections-sub').textContent = `${integer.format(t.opened)} opened, ${integer.format(t.rejected)} refused`;
    $('messages-rate').textContent = compact(stats.rates.messages);
    setNumber('messages-total', t.messages);
    $('trades-rate').textContent = compact(stats.rates.trades);
    setNumber('trades-total', t.trades);
    $('bytes-rate').textContent = bytes(stats.rates.bytes);
    $('bytes-total').textContent = bytes(t.bytes);
    setNumber('errors-total', t.errors);
    $('errors-tile').classList.toggle('bad', t.errors > 0);
    $('errors-sub').textContent = `decode ${integer.format(stats.errors.decode)}, protocol ${integer.format(stats.errors.protocol)}, handler ${integer.format(stats.errors.handler)}`;

    const d = stats.dispatch;
    $('dispatch-window').textContent = d.windowSeconds;
    document.querySelectorAll('#latency-table .window').forEach(e => { e.textContent = d.windowSeconds; });
    $('dispatch-p99').textContent = micros(d.recent.p99);
    $('dispatch-sub').textContent = `p50 ${micros(d.recent.p50)} · ${integer.format(d.recent.count)} reads`;
    latencyRow('latency-recent', d.recent);
    latencyRow('latency-since-start', d.sinceStart);
    errorRows(stats.errors);

    renderSink(stats.sink);

    const s = stats.series;
    rateChart.draw(s.time, [s.messages, s.trades]);
    latencyChart.draw(s.time, [s.dispatchP50, s.dispatchP99]);
    $('uptime').textContent = duration(stats.uptimeSeconds);
    $('updated').textContent = new Date(stats.time).toLocaleTimeString('en-GB');
    document.body.dataset.loaded = 'true';
  }

  function renderSink(sink) {
    $('sink-panel').hidden = !sink;
    if (!sink) { return; }
    $('sink-name').textContent = sink.name;
    const pill = $('sink-health');
    pill.textContent = sink.health.toLowerCase();
    pill.className = `pill ${sink.health === 'Healthy' ? 'good' : sink.health === 'Degraded' ? 'warn' : 'bad'}`;
    pill.title = sink.description || '';
    setNumber('sink-stored', sink.stored);
    const duplicates = sink.duplicates === null || sink.duplicates === undefined ? 'duplicates unknown' : `${integer.format(sink.duplicates)} duplicates`;
    $('sink-acks').textContent = `${integer.format(sink.acks)} acks sent · ${duplicates}`;
    setNumber('sink-inflight', sink.inFlightTrades);
    $('sink-bound').textContent = `of ${integer.format(sink.maxInFlightTrades)} · ${bytes(sink.inFlightBytes)}`;
    $('sink-lag').textContent = micros(sink.lagMs * 1000);
    setNumber('sink-paused', sink.pausedConnections);
    setNumber('sink-retries', sink.retries);
    $('sink-retries-tile').classList.toggle('bad', sink.failingForSeconds > 0);
    $('sink-error').textContent = sink.lastError ? `failing ${sink.failingForSeconds} s: ${sink.lastError}` : 'publishing';
    $('sink-error').title = sink.lastError || '';
  }

  function setHealth(text, level, title) {
    const pill = $('health');
    pill.textContent = text;
    pill.className = `pill ${level}`;
    pill.title = title || '/health';
  }

  async function poll() {
    try {
      const response = await fetch('/api/stats', { cache: 'no-store' });
      if (!response.ok) { throw new Error(`HTTP ${response.status}`); }
      render(await response.json());
    } catch (e) {
      setHealth('unreachable', 'bad', String(e));
    }
  }

  async function health() {
    try {
      const response = await fetch('/health', { cache: 'no-store' });
      const report = await response.json();
      const check = report.checks.gateway || {};
      const level = report.status === 'Healthy' ? 'good' : report.status === 'Degraded' ? 'warn' : 'bad';
      setHealth(report.status.toLowerCase(), level, check.description);
    } catch (e) {
      setHealth('unreachable', 'bad', String(e));
    }
  }

  poll();
  health();
  setInterval(poll, 1000);
  setInterval(health, 5000);
})();
