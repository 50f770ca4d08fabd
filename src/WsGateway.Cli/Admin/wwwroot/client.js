// The browser client: encodes SBE Trade messages with a DataView and sends them as binary WebSocket frames.
//
//  0       2       4       6       8               16  17              25      29
//  +-------+-------+-------+-------+---------------+---+---------------+-------+
//  |blkLen |tmplId |schema |version| tradeId u64   |sym| price f64     |qty u32|
//  |  21   |   1   |   1   |   0   |               |u8 |               |       |
//  +-------+-------+-------+-------+---------------+---+---------------+-------+   all little-endian
'use strict';

const Sbe = Object.freeze({
  SbeBlockLength: 21,
  TemplateId: 1,
  SchemaId: 1,
  SchemaVersion: 0,
  HeaderLength: 8,
  EncodedSize: 29,
  MaxTradeId: (1n << 64n) - 1n,

  // Writes one trade at `offset` of `view`; `trade.tradeId` is a BigInt, `trade.symbol` a byte.
  encodeTrade(view, offset, trade) {
    view.setUint16(offset, Sbe.SbeBlockLength, true);
    view.setUint16(offset + 2, Sbe.TemplateId, true);
    view.setUint16(offset + 4, Sbe.SchemaId, true);
    view.setUint16(offset + 6, Sbe.SchemaVersion, true);
    view.setBigUint64(offset + 8, trade.tradeId, true);
    view.setUint8(offset + 16, trade.symbol);
    view.setFloat64(offset + 17, trade.price, true);
    view.setUint32(offset + 25, trade.quantity, true);
    return offset + Sbe.EncodedSize;
  },
});
window.Sbe = Sbe;

(() => {
  const $ = id => document.getElementById(id);
  const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
  const HighWater = 4 * 1024 * 1024; // bytes queued in the browser before the loop waits for the network

  function show(id, value, text) {
    const element = $(id);
    element.dataset.value = String(value);
    element.textContent = text === undefined ? integer.format(value) : text;
  }

  function hex(bytes) {
    return Array.from(bytes, b => b.toString(16).padStart(2, '0')).join(' ');
  }

  // The gateway URL: as the gateway reports it, but with this page's host when the page is opened from another
  // machine and the gateway listens on all interfaces.
  async function prefill() {
    const fallback = `ws://${location.hostname || '127.0.0.1'}:9001/`;
    try {
      const stats = await (await fetch('/api/stats', { cache: 'no-store' })).json();
      const url = new URL(stats.gateway.url || fallback);
      const loopback = h => h === '127.0.0.1' || h === 'localhost' || h === '[::1]';
      if (loopback(url.hostname) && location.hostname && !loopback(location.hostname)) {
        url.hostname = location.hostname;
      }
      $('url').value = url.toString();
    } catch {
      $('url').value = fallback;
    }
  }

  function readForm() {
    const form = $('send-form');
    if (!form.checkValidity()) {
      const bad = form.querySelector(':invalid');
      throw new Error(`Check "${bad.closest('label').firstChild.textContent.trim()}".`);
    }
    const plan = {
      url: $('url').value.trim(),
      count: Number($('count').value),
      batch: Number($('batch').value),
      firstId: BigInt($('first-id').value),
      symbol: $('symbol').value.charCodeAt(0),
      price: Number($('price').value),
      quantity: Number($('quantity').value),
    };
    if (!Number.isSafeInteger(plan.count) || plan.count < 1) { throw new Error('Trades must be a whole number, at least 1.'); }
    if (!Number.isSafeInteger(plan.batch) || plan.batch < 1) { throw new Error('Batch size must be a whole number, at least 1.'); }
    if (plan.firstId + BigInt(plan.count) - 1n > Sbe.MaxTradeId) { throw new Error('The last trade id would not fit in 64 bits.'); }
    if (!Number.isFinite(plan.price)) { throw new Error('Price must be a number.'); }
    if (!Number.isInteger(plan.quantity) || plan.quantity < 0 || plan.quantity > 0xFFFFFFFF) { throw new Error('Quantity must fit in 32 bits.'); }
    return plan;
  }

  async function send(plan) {
    const started = performance.now();
    let sent = 0;
    let frames = 0;
    let bytes = 0;
    const progress = () => {
      show('sent', sent);
      show('frames', frames);
      show('bytes', bytes);
      $('progress').value = sent / plan.count;
      $('elapsed').textContent = `${((performance.now() - started) / 1000).toFixed(3)} s`;
    };

    $('state').textContent = 'connecting';
    const ws = new WebSocket(plan.url);
    ws.binaryType = 'arraybuffer';
    const closed = new Promise(resolve => ws.addEventListener('close', resolve, { once: true }));
    const opened = await new Promise(resolve => {
      ws.addEventListener('open', () => resolve(true), { once: true });
      closed.then(() => resolve(false));
    });

    if (opened) {
      $('state').textContent = 'sending';
      while (sent < plan.count && ws.readyState === WebSocket.OPEN) {
        const n = Math.min(plan.batch, plan.count - sent);
        const buffer = new ArrayBuffer(n * Sbe.EncodedSize);
        const view = new DataView(buffer);
        for (let i = 0, offset = 0; i < n; i++) {
          offset = Sbe.encodeTrade(view, offset, {
            tradeId: plan.firstId + BigInt(sent + i),
            symbol: plan.symbol,
            price: plan.price,
            quantity: plan.quantity,
          });
        }
        if (frames === 0) {
          $('hex').textContent = hex(new Uint8Array(buffer, 0, Sbe.EncodedSize));
        }
        ws.send(buffer);
        sent += n;
        frames++;
        bytes += buffer.byteLength;
        if (ws.bufferedAmount > HighWater || frames % 512 === 0) {
          progress();
          do { await sleep(ws.bufferedAmount > HighWater ? 5 : 0); } while (ws.bufferedAmount > HighWater && ws.readyState === WebSocket.OPEN);
        }
      }
      progress();
      if (ws.readyState === WebSocket.OPEN) {
        $('state').textContent = 'closing';
        ws.close(1000, 'done');
      }
    }

    const close = await closed;
    progress();
    show('close-code', close.code, `${close.code}${close.wasClean ? '' : ' (not clean)'}`);
    $('close-reason').textContent = close.reason || '–';
    $('state').textContent = opened ? 'closed' : 'failed';
    if (!opened) {
      $('error').textContent = `Could not connect to ${plan.url}.`;
    } else if (sent < plan.count) {
      $('error').textContent = `The gateway closed the connection after ${integer.format(sent)} of ${integer.format(plan.count)} trades.`;
    }
  }

  $('send-form').addEventListener('submit', async event => {
    event.preventDefault();
    $('error').textContent = '';
    let plan;
    try {
      plan = readForm();
    } catch (e) {
      $('error').textContent = e.message;
      return;
    }

    $('send').disabled = true;
    for (const [id, text] of [['close-code', '–'], ['close-reason', '–'], ['hex', '–'], ['elapsed', '–']]) {
      $(id).textContent = text;
    }
    $('close-code').dataset.value = '';
    try {
      await send(plan);
    } catch (e) {
      $('state').textContent = 'failed';
      $('error').textContent = e.message;
    } finally {
      $('send').disabled = false;
    }
  });

  prefill();
})();
