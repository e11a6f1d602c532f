// gpuprice web UI. The server renders the whole page, so it reads without
// JavaScript; this script makes it live: filters apply as they change and
// are kept in the URL (so views can be linked), the tables are refreshed
// from the JSON API, the price table sorts by its column headers, and the
// history chart is drawn as inline SVG. Prices show per hour or per month
// (730 h), and the cheapest prices to rent apart from owned hardware,
// allocations, contracts and anything free. No framework, nothing loaded
// from elsewhere.
'use strict';

(() => {
  // The page parameters that are API filters, under the API's own names.
  const FILTERS = ['gpu_model', 'provider', 'pricing_model', 'geo', 'region', 'max_gpu_usd_per_hour'];
  // Defaults that are left out of the URL.
  const DEFAULTS = { sort: 'gpu_usd_per_hour', limit: '50', chart_range: '1d', unit: 'hour' };
  // Hours in each unit prices are shown in: a month is 730 hours.
  const HOURS = { hour: 1, month: 730 };
  // Pricing models of prices nobody rents out (owned hardware, configured
  // allocations and contracts); rented() says what the server's does.
  const OWN = ['amortized', 'fixed'];
  const RENT = ['on_demand', 'spot', 'reserved_1y', 'reserved_3y'];
  const rented = (x) => !OWN.includes(x.pricing_model) && x.usd_per_hour !== 0;
  // Chart ranges and their sampling steps, in seconds: ~150 samples each.
  const RANGES = {
    '1h': [3600, 30], '6h': [21600, 150], '1d': [86400, 600],
    '7d': [604800, 3600], '30d': [2592000, 14400],
  };
  const REFRESH_MS = 60000;
  const SVG = 'http://www.w3.org/2000/svg'; // a namespace name, not fetched

  const $ = (sel) => document.querySelector(sel);
  const form = $('#filters');
  const body = document.body;

  // state is the page's parameters as the form holds them; empty values
  // and defaults are left out.
  function state() {
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) {
      const s = String(v).trim();
      if (s !== '' && DEFAULTS[k] !== s) q.set(k, s);
    }
    return q;
  }

  function pick(q, names) {
    const out = new URLSearchParams();
    for (const n of names) if (q.has(n)) out.set(n, q.get(n));
    return out;
  }

  // getJSON answers the data of an API answer, or throws its error.
  async function getJSON(path, q) {
    const resp = await fetch(`${path}?${q}`, { headers: { Accept: 'application/json' } });
    const answer = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(answer.error || `${path}: HTTP ${resp.status}`);
    return answer.data;
  }

  // Formatting, as the server's template does.
  const usd = (v) => (v === null || v === undefined || !isFinite(v) ? '–' : v.toFixed(3));
  const num = (v) => (v ? String(Math.round(v * 1e4) / 1e4) : '');
  // known shows a number that is absent when unknown (the host's vCPUs
  // and RAM) as a dash then, as the server's formatKnown.
  const known = (v) => num(v) || '–';
  const utc = (s) => `${new Date(s).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    e.append(...children);
    return e;
  }
  const muted = (text) => el('span', { class: 'muted' }, text);

  function link(q, name, value, frag) {
    const p = new URLSearchParams(q);
    if (value) p.set(name, value); else p.delete(name);
    return `?${p}#${frag}`;
  }

  // quoteRow writes the cells in the order of the server's uiColumns,
  // prices for the given number of hours.
  function quoteRow(x, q, hours) {
    const tr = el('tr');
    const cell = (content, cls) => tr.append(el('td', cls ? { class: cls } : {}, ...[].concat(content)));
    if (x.gpu_model === 'UNKNOWN') {
      cell(`UNKNOWN (${x.gpu_raw || ''})`, 'wrap');
    } else {
      const a = el('a', {
        href: link(q, 'chart_gpu_model', x.gpu_model, 'history'),
        'data-chart': x.gpu_model, title: `${x.gpu_model} price history`,
      }, x.gpu_model);
      cell(x.gpu_form ? [a, ' ', muted(x.gpu_form)] : [a], 'wrap');
    }
    const times = (v) => (v === null || v === undefined ? v : v * hours);
    cell(num(x.gpu_memory_gb), 'num');
    cell(num(x.gpu_count), 'num');
    cell(x.pricing_model);
    cell(usd(times(x.gpu_usd_per_hour)), 'num price');
    cell(usd(times(x.usd_per_hour)), 'num');
    cell(x.provider, 'wrap');
    cell(x.offers ? [x.instance_type, ' ', muted(`(${x.offers} offers)`)] : [x.instance_type], 'wrap');
    cell(known(x.vcpus), 'num');
    cell(known(x.memory_gb), 'num');
    cell(x.zone ? [x.region, ' ', muted(x.zone)] : [x.region], 'wrap');
    cell(x.geo);
    return tr;
  }

  function fill(tbody, rows, columns, empty) {
    tbody.replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: columns }, empty))]));
  }

  function renderQuotes(sel, quotes, q, empty) {
    const hours = HOURS[q.get('unit') || DEFAULTS.unit] || 1;
    const tbody = $(sel);
    fill(tbody, quotes.map((x) => quoteRow(x, q, hours)), tbody.closest('table').tHead.rows[0].cells.length,
      empty || 'No prices match.');
  }

  // byModel orders the cheapest tables as the server does: by GPU model,
  // then price.
  const cmpStr = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  const byModel = (a, b) => cmpStr(a.gpu_model, b.gpu_model) || a.gpu_usd_per_hour - b.gpu_usd_per_hour
    || a.usd_per_hour - b.usd_per_hour || cmpStr(a.provider, b.provider) || cmpStr(a.instance_type, b.instance_type)
    || cmpStr(a.region, b.region);

  // splitCheapest parts /api/v1/cheapest's rows into the cheapest to rent
  // and the rest. A free row (a static entry priced 0 under a rented
  // pricing model) hides the cheapest price to rent of its GPU, memory and
  // pricing model: that one is asked for.
  async function splitCheapest(rows, fq) {
    const rent = [], own = [];
    for (const x of rows) {
      if (rented(x)) { rent.push(x); continue; }
      own.push(x);
      if (OWN.includes(x.pricing_model)) continue;
      const rq = new URLSearchParams(fq);
      Object.entries({ gpu_model: x.gpu_model, gpu_memory_gb: x.gpu_memory_gb, pricing_model: x.pricing_model,
        sort: 'gpu_usd_per_hour', limit: '100' }).forEach(([k, v]) => rq.set(k, v));
      const alt = (await getJSON('api/v1/prices', rq)).find((y) => rented(y) && y.stock !== 'none');
      if (alt) rent.push(alt);
    }
    return [rent.sort(byModel), own.sort(byModel)];
  }

  // renderUnit labels the price columns with the unit.
  function renderUnit(q) {
    const unit = q.get('unit') || DEFAULTS.unit;
    for (const th of document.querySelectorAll('th[data-price]')) {
      const label = th.dataset.price === 'gpu' ? `$/GPU-${unit}` : `$/${unit}`;
      (th.querySelector('a') || th).textContent = label;
    }
  }

  // renderLinks points each table's CSV and JSON links at its API answer,
  // as the server's APIHref does.
  function renderLinks(q) {
    const fq = pick(q, FILTERS);
    const api = (table, format) => {
      const p = new URLSearchParams(fq);
      let path = 'api/v1/cheapest';
      if (table === 'prices') {
        path = 'api/v1/prices';
        p.set('sort', q.get('sort') || DEFAULTS.sort);
        p.set('limit', q.get('limit') || DEFAULTS.limit);
      } else if (!p.has('pricing_model')) {
        p.set('pricing_model', (table === 'own' ? OWN : RENT).join(','));
      }
      p.set('format', format);
      p.sort();
      return `${path}?${p}`;
    };
    for (const table of ['cheapest', 'own', 'prices']) {
      for (const format of ['csv', 'json']) {
        const a = $(`#${table}-${format}`);
        if (a) a.setAttribute('href', api(table, format));
      }
    }
  }

  function providerState(p) {
    if (p.stale) return 'stale';
    if (p.success) return 'ok';
    return p.last_attempt ? 'failing' : 'pending';
  }

  function renderProviders(providers) {
    fill($('#provider-rows'), providers.map((p) => {
      const st = providerState(p);
      const errors = Object.keys(p.errors).sort().map((k) => `${k}=${p.errors[k]}`).join(' ');
      const last = p.last_success ? el('time', { datetime: p.last_success }, utc(p.last_success)) : 'never';
      return el('tr', {}, el('td', {}, p.provider), el('td', {}, el('span', { class: `state-${st}` }, st)),
        el('td', {}, last), el('td', { class: 'num' }, String(p.quotes)), el('td', {}, errors), el('td', {}, p.last_error));
    }), 6, 'No provider is enabled.');
  }

  // renderSortLinks points each sortable header at the other direction
  // and marks the current one.
  function renderSortLinks(q) {
    const cur = q.get('sort') || DEFAULTS.sort;
    for (const a of document.querySelectorAll('a[data-sort]')) {
      const key = a.dataset.sort;
      const th = a.closest('th');
      th.setAttribute('aria-sort', cur === key ? 'ascending' : cur === `-${key}` ? 'descending' : 'none');
      a.href = link(q, 'sort', cur === key ? `-${key}` : key, 'prices');
    }
  }

  // seriesOf returns the series of a /api/v1/history answer as {labels,
  // points: [[unix seconds, $/GPU-hour], ...]}: from the Prometheus-like
  // matrix that resampled answers are (values per GPU-hour by default), or
  // from the list of series with their change points that raw answers are.
  function seriesOf(data) {
    if (data && data.resultType === 'matrix') {
      return data.result.map((r) => ({
        labels: r.metric,
        points: r.values.map(([t, v]) => [Number(t), Number(v)]).filter(([, v]) => isFinite(v)),
      }));
    }
    return (data || []).map((s) => ({
      labels: s,
      points: s.points.filter((p) => !p.withdrawn && p.gpu_usd_per_hour !== null)
        .map((p) => [Date.parse(p.time) / 1000, p.gpu_usd_per_hour]),
    }));
  }

  // niceTicks returns about n round values covering lo..hi.
  function niceTicks(lo, hi, n) {
    if (hi - lo < 1e-9) { const d = Math.abs(lo) * 0.1 || 1; lo -= d; hi += d; }
    const raw = (hi - lo) / n;
    const mag = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
    const ticks = [];
    for (let v = Math.floor(lo / step) * step; v <= hi + step / 2; v += step) ticks.push(+v.toFixed(10));
    if (ticks[ticks.length - 1] < hi) ticks.push(ticks[ticks.length - 1] + step);
    return ticks;
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // plot draws lines (each {name, points}, dashed if l.dashed) over
  // [start, end] as an SVG line chart with axes and a legend. A price is a
  // step function: each sample holds until the next; gaps longer than 1.5
  // steps break the line.
  function plot(lines, start, end, step) {
    const W = 800, H = 300, L = 58, R = 12, T = 10, B = 26;
    const vals = lines.flatMap((l) => l.points.map((p) => p[1]));
    const lo = Math.min(...vals), hi = Math.max(...vals), pad = (hi - lo) * 0.05;
    const yt = niceTicks(Math.max(0, lo - pad), hi + pad, 5);
    const y0 = yt[0], y1 = yt[yt.length - 1];
    const x = (t) => L + ((t - start) / (end - start)) * (W - L - R);
    const y = (v) => H - B - ((v - y0) / (y1 - y0)) * (H - T - B);
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'chart-caption' });
    for (const v of yt) {
      root.append(svg('line', { class: 'grid', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      root.append(svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, v.toFixed(v < 10 ? 2 : 1)));
    }
    const day = end - start > 86400;
    for (let i = 0; i <= 5; i++) {
      const t = start + ((end - start) * i) / 5;
      const d = new Date(t * 1000);
      const label = day ? d.toLocaleDateString([], { month: 'short', day: 'numeric' })
        : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
      root.append(svg('text', { x: x(t), y: H - 8, 'text-anchor': i === 0 ? 'start' : i === 5 ? 'end' : 'middle' }, label));
    }
    root.append(svg('line', { class: 'axis', x1: L, x2: L, y1: T, y2: H - B }));
    root.append(svg('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }));
    root.append(svg('text', { x: 12, y: (H - B) / 2, transform: `rotate(-90 12 ${(H - B) / 2})`, 'text-anchor': 'middle' }, '$/GPU-hour'));
    const legend = el('ul', { class: 'legend' });
    lines.forEach((l, i) => {
      const cls = `s${i % 8}${l.dashed ? ' dashed' : ''}`;
      let d = '';
      l.points.forEach(([t, v], j) => {
        const prev = l.points[j - 1];
        if (!prev || t - prev[0] > 1.5 * step) d += `M${x(t).toFixed(1)} ${y(v).toFixed(1)}`;
        else d += `H${x(t).toFixed(1)}V${y(v).toFixed(1)}`;
      });
      const last = l.points[l.points.length - 1];
      d += `H${x(Math.min(last[0] + step, end)).toFixed(1)}`;
      const path = svg('path', { class: `series ${cls}`, d, 'data-name': l.name });
      path.append(svg('title', {}, `${l.name}: ${usd(last[1])} $/GPU-hour now`));
      // A dot on the latest price keeps a series that just began visible.
      root.append(path, svg('circle', { class: cls, cx: x(last[0]).toFixed(1), cy: y(last[1]).toFixed(1), r: 3 }));
      legend.append(el('li', {}, el('span', { class: `swatch ${cls}`, 'aria-hidden': 'true' }), `${l.name}: ${usd(last[1])}`));
    });
    return [root, legend];
  }

  // historyQuery is the /api/v1/history query of the chart's lines of
  // model (at provider prov, if any) over [start, end], with the page's geo
  // and pricing model filters.
  function historyQuery(q, model, prov, by, start, end, step) {
    const hq = pick(q, ['geo', 'pricing_model']);
    Object.entries({ gpu_model: model, start, end, step, agg: 'min', by }).forEach(([k, v]) => hq.set(k, v));
    if (prov) hq.set('provider', prov);
    return hq;
  }

  // chartLinks links the chart's data: each query as CSV and JSON, as the
  // tables' links do; ids are the queries' names (chart, compare).
  function chartLinks(queries) {
    const p = el('p', { class: 'links muted', id: 'chart-links' }, 'This chart from the API: ');
    queries.forEach(([name, label, hq], i) => {
      const href = (format) => { const h = new URLSearchParams(hq); h.set('format', format); h.sort(); return `api/v1/history?${h}`; };
      if (i > 0) p.append('; ');
      if (label) p.append(`${label}: `);
      p.append(el('a', { id: `${name}-csv`, href: href('csv') }, 'CSV'), ' · ', el('a', { id: `${name}-json`, href: href('json') }, 'JSON'));
    });
    return p;
  }

  // cheapestLine is the cheapest price to rent at each sample over the
  // series of a history answer (one per provider): free prices (0) are
  // left out, as the cheapest table leaves them out.
  function cheapestLine(series) {
    const best = new Map();
    for (const s of series) {
      for (const [t, v] of s.points) {
        if (v > 0 && !(best.get(t) <= v)) best.set(t, v);
      }
    }
    return [...best.entries()].sort((a, b) => a[0] - b[0]);
  }

  // chart returns the nodes of the chart of the cheapest price of the
  // chosen GPU over the chosen range, one line per provider or, for one
  // provider, one per pricing model, and its caption; or, comparing, two
  // lines (see compareChart).
  async function chart(q) {
    const model = q.get('chart_gpu_model');
    const range = q.get('chart_range') || DEFAULTS.chart_range;
    const prov = q.get('chart_provider');
    if (!model) return { nodes: [el('p', {}, 'No GPU to chart yet.')] };
    const [span, step] = RANGES[range] || RANGES[DEFAULTS.chart_range];
    // Rounded up: the chart's last sample is now, not up to a second
    // before a price published this second.
    const end = Math.ceil(Date.now() / 1000);
    const start = end - span;
    if (q.get('compare_gpu_model')) return compareChart(q, model, prov, range, start, end, step);
    const by = prov ? 'pricing_model' : 'provider';
    const hq = historyQuery(q, model, prov, by, start, end, step);
    const lines = seriesOf(await getJSON('api/v1/history', hq))
      .filter((s) => s.points.length)
      .map((s) => ({ name: prov ? `${prov} ${s.labels[by]}` : s.labels[by], points: s.points }));
    const caption = `Cheapest ${model} price per GPU-hour in USD over the last ${range}, `
      + `${prov ? `at ${prov} by pricing model` : 'by provider'}${hq.has('geo') ? ` in ${hq.get('geo')}` : ''}`
      + `${q.has('pricing_model') ? `, ${q.get('pricing_model')}` : ''}.`;
    const links = chartLinks([['chart', '', hq]]);
    if (!lines.length) return { caption, nodes: [el('p', {}, `No ${model} history in the last ${range} yet.`), links] };
    return { caption, nodes: [...plot(lines, start, end, step), links] };
  }

  // compareChart draws two lines: the cheapest price to rent of the
  // chart's GPU at its provider (any provider when none), and that of
  // compare_gpu_model at compare_provider (any when none), each the
  // cheapest at every sample over its providers' lines (agg=min,
  // by=provider) with free prices left out; without a pricing model
  // filter, only the pricing models to rent are asked for, as the cheapest
  // table's links do. The second line is dashed.
  async function compareChart(q, model, prov, range, start, end, step) {
    const sides = [
      { model, prov, name: 'chart' },
      { model: q.get('compare_gpu_model'), prov: q.get('compare_provider'), name: 'compare' },
    ];
    for (const side of sides) {
      side.label = `${side.model} ${side.prov ? `at ${side.prov}` : 'at any provider'}`;
      side.hq = historyQuery(q, side.model, side.prov, 'provider', start, end, step);
      if (!side.hq.has('pricing_model')) side.hq.set('pricing_model', RENT.join(','));
    }
    const answers = await Promise.all(sides.map((side) => getJSON('api/v1/history', side.hq)));
    const lines = sides.map((side, i) => ({ name: side.label, points: cheapestLine(seriesOf(answers[i])), dashed: i === 1 }));
    const caption = `Cheapest price per GPU-hour to rent in USD over the last ${range}: ${sides[0].label} and ${sides[1].label}`
      + `${q.has('geo') ? ` in ${q.get('geo')}` : ''}${q.has('pricing_model') ? `, ${q.get('pricing_model')}` : ''}; free prices left out.`;
    const links = chartLinks(sides.map((side) => [side.name, side.label, side.hq]));
    const drawn = lines.filter((l) => l.points.length);
    const missing = lines.filter((l) => !l.points.length)
      .map((l) => el('p', { class: 'muted' }, `No history of ${l.name} in the last ${range} yet.`));
    if (!drawn.length) return { caption, nodes: [...missing, links] };
    return { caption, nodes: [...plot(drawn, start, end, step), ...missing, links] };
  }

  // renderChartControls labels the chart's provider choice for what it
  // does: one line per provider (or per pricing model of one), or, when
  // comparing, the provider of the first line.
  function renderChartControls(q) {
    const comparing = !!q.get('compare_gpu_model');
    $('#c-provider-label').textContent = comparing ? 'Provider' : 'Lines';
    for (const o of $('#c-provider').options) {
      if (comparing) o.textContent = o.value || 'any provider';
      else o.textContent = o.value ? `${o.value}: one per pricing model` : 'one per provider';
    }
  }

  function setStatus(text, bad) {
    const s = $('#status');
    s.textContent = text;
    s.classList.toggle('error', !!bad);
  }

  // update writes the form's state into the URL and redraws everything
  // from the API. An update overtaken by a newer one leaves the page alone.
  let seq = 0;
  async function update() {
    const q = state();
    history.replaceState(null, '', `${q.toString() ? `?${q}` : location.pathname}${location.hash}`);
    const mine = ++seq;
    body.dataset.state = 'loading';
    try {
      const pq = pick(q, [...FILTERS, 'sort', 'limit']);
      if (!pq.has('limit')) pq.set('limit', DEFAULTS.limit);
      const [cheapest, prices, providers] = await Promise.all([
        getJSON('api/v1/cheapest', pick(q, FILTERS)),
        getJSON('api/v1/prices', pq),
        getJSON('api/v1/providers', ''),
      ]);
      const [rent, own] = await splitCheapest(cheapest, pick(q, FILTERS));
      if (mine !== seq) return;
      renderQuotes('#cheapest-rows', rent, q);
      renderQuotes('#own-rows', own, q, 'None match: configure owned: or static: entries.');
      renderQuotes('#prices-rows', prices, q);
      renderProviders(providers);
      renderSortLinks(q);
      renderUnit(q);
      renderLinks(q);
      renderChartControls(q);
      // The chart fails alone: a server without a store has no history.
      const c = await chart(q).catch((e) => ({ nodes: [el('p', { class: 'error' }, `No chart: ${e.message}`)] }));
      if (mine !== seq) return;
      $('#chart').replaceChildren(...c.nodes);
      if (c.caption) $('#chart-caption').textContent = c.caption;
      document.querySelectorAll('main > .error').forEach((e) => e.remove());
      setStatus(`Updated ${new Date().toLocaleTimeString()}.`);
      body.dataset.state = 'ready';
    } catch (e) {
      if (mine !== seq) return;
      setStatus(e.message, true);
      body.dataset.state = 'error';
    }
  }

  let timer;
  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(update, ms);
  }

  // Controls outside the form element belong to it through their form
  // attribute, so events are caught on the document.
  document.addEventListener('change', (e) => {
    if (e.target.form !== form) return;
    // A provider to compare with and no GPU: the chart's GPU there.
    const cmp = $('#c-compare-gpu');
    const gpu = $('#c-gpu').value;
    if (e.target.id === 'c-compare-provider' && e.target.value && !cmp.value && gpu) {
      if (![...cmp.options].some((o) => o.value === gpu)) cmp.add(new Option(gpu));
      cmp.value = gpu;
    }
    schedule(0);
  });
  document.addEventListener('input', (e) => { if (e.target.form === form && e.target.tagName === 'INPUT') schedule(400); });
  form.addEventListener('submit', (e) => { e.preventDefault(); schedule(0); });
  document.addEventListener('click', (e) => {
    const a = e.target.closest('a[data-sort], a[data-chart]');
    if (!a || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    if (a.dataset.sort) {
      form.elements.sort.value = new URLSearchParams(a.search).get('sort');
    } else {
      const sel = $('#c-gpu');
      if (![...sel.options].some((o) => o.value === a.dataset.chart)) sel.add(new Option(a.dataset.chart));
      sel.value = a.dataset.chart;
      $('#history').scrollIntoView();
    }
    update();
  });
  setInterval(() => { if (!document.hidden) update(); }, REFRESH_MS);
  update();
})();
