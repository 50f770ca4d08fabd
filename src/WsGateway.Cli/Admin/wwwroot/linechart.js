// A small time-series line chart drawn on a <canvas>: no library, no CDN.
// new LineChart(canvas, { series: [{ name, color, fill }], format: v => text, spanSeconds: 300 })
//   .draw(timesMs, [values0, values1, ...])   // null values leave a gap
'use strict';

class LineChart {
  constructor(canvas, options) {
    this.canvas = canvas;
    this.series = options.series;
    this.format = options.format || (v => String(v));
    this.spanSeconds = options.spanSeconds || 300;
    this.last = null;
    const redraw = () => { if (this.last) { this.draw(this.last.times, this.last.values); } };
    if (typeof ResizeObserver === 'function') {
      new ResizeObserver(redraw).observe(canvas);
    } else {
      window.addEventListener('resize', redraw);
    }
  }

  // 1, 2 or 5 times a power of ten, so that about `count` steps cover `max`.
  static niceStep(max, count) {
    const raw = max / count;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const fraction = raw / power;
    return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
  }

  draw(times, values) {
    this.last = { times, values };
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (width === 0 || height === 0) {
      return;
    }

    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }

    const ctx = canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);

    const style = getComputedStyle(document.documentElement);
    const muted = style.getPropertyValue('--muted').trim() || '#8a96a8';
    const grid = style.getPropertyValue('--border').trim() || '#263140';
    ctx.font = '11px system-ui, sans-serif';

    let max = 0;
    for (const list of values) {
      for (const v of list) {
        if (v !== null && v > max) { max = v; }
      }
    }
    if (max <= 0) { max = 1; }
    const step = LineChart.niceStep(max, 4);
    const top = Math.ceil(max / step) * step;

    // Plot area: room on the left for the y labels, below for the time axis, above for the legend.
    let labelWidth = 0;
    for (let v = 0; v <= top + step / 2; v += step) {
      labelWidth = Math.max(labelWidth, ctx.measureText(this.format(v)).width);
    }
    const left = Math.ceil(labelWidth) + 12;
    const right = width - 10;
    const plotTop = 24;
    const bottom = height - 20;
    const now = times.length > 0 ? times[times.length - 1] : Date.now();
    const start = now - this.spanSeconds * 1000;
    const x = t => left + (right - left) * (t - start) / (now - start);
    const y = v => bottom - (bottom - plotTop) * v / top;

    // Grid and y labels.
    ctx.strokeStyle = grid;
    ctx.fillStyle = muted;
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (let v = 0; v <= top + step / 2; v += step) {
      const py = Math.round(y(v)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(left, py);
      ctx.lineTo(right, py);
      ctx.stroke();
      ctx.fillText(this.format(v), left - 6, py);
    }

    // Time labels: every minute back from now.
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (let s = 0; s <= this.spanSeconds; s += 60) {
      const px = x(now - s * 1000);
      ctx.fillText(s === 0 ? 'now' : `-${s / 60} min`, Math.min(Math.max(px, left + 14), right - 14), bottom + 5);
    }

    // Series, first one filled below its line.
    this.series.forEach((series, index) => {
      const list = values[index] || [];
      ctx.strokeStyle = series.color;
      ctx.lineWidth = 1.75;
      ctx.lineJoin = 'round';
      let run = [];
      const flush = () => {
        if (run.length === 0) { return; }
        if (series.fill) {
          ctx.beginPath();
          ctx.moveTo(run[0][0], bottom);
          run.forEach(([px, py]) => ctx.lineTo(px, py));
          ctx.lineTo(run[run.length - 1][0], bottom);
          ctx.closePath();
          ctx.globalAlpha = 0.16;
          ctx.fillStyle = series.color;
          ctx.fill();
          ctx.globalAlpha = 1;
        }
        ctx.beginPath();
        run.forEach(([px, py], i) => (i === 0 ? ctx.moveTo(px, py) : ctx.lineTo(px, py)));
        if (run.length === 1) { ctx.arc(run[0][0], run[0][1], 1.5, 0, 2 * Math.PI); }
        ctx.stroke();
        run = [];
      };
      for (let i = 0; i < list.length; i++) {
        if (list[i] === null || times[i] < start) { flush(); continue; }
        run.push([x(times[i]), y(list[i])]);
      }
      flush();
    });

    // Legend, with each series' latest value.
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    let lx = left;
    this.series.forEach((series, index) => {
      const list = values[index] || [];
      const latest = list.length > 0 ? list[list.length - 1] : null;
      const text = `${series.name} ${latest === null ? '–' : this.format(latest)}`;
      ctx.fillStyle = series.color;
      ctx.fillRect(lx, 8, 10, 3);
      ctx.fillStyle = muted;
      ctx.fillText(text, lx + 14, 10);
      lx += ctx.measureText(text).width + 30;
    });
  }
}

window.LineChart = LineChart;
