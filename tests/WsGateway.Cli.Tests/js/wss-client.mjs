// A wss:// client no one here wrote: the npm `ws` package, on Node's own TLS. Sends `count` SBE Trade messages
// (schemas/trade.xml: 8-byte header 21,1,1,0 then tradeId u64, symbol char, price f64, quantity u32, little-endian),
// one per binary frame, closes with 1000 and prints one JSON line: {"closeCode":1000,"sent":N} or {"error":"..."}.
// Usage: node wss-client.mjs '{"url":"wss://127.0.0.1:PORT/","ca":"/path/ca.pem","count":5}'
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

const plan = JSON.parse(process.argv[2]);
const options = plan.ca ? { ca: readFileSync(plan.ca) } : {};
const ws = new WebSocket(plan.url, options);
let sent = 0;
const done = (result) => {
  console.log(JSON.stringify(result));
  process.exit(0);
};
const timer = setTimeout(() => done({ error: 'timed out', sent }), 20000);

ws.on('open', () => {
  for (let i = 0; i < plan.count; i++) {
    const m = Buffer.alloc(29);
    m.writeUInt16LE(21, 0); // blockLength
    m.writeUInt16LE(1, 2);  // templateId: Trade
    m.writeUInt16LE(1, 4);  // schemaId
    m.writeUInt16LE(0, 6);  // version
    m.writeBigUInt64LE(BigInt(i + 1), 8);
    m.writeUInt8('N'.charCodeAt(0), 16);
    m.writeDoubleLE(100.25, 17);
    m.writeUInt32LE(i + 1, 25);
    ws.send(m, { binary: true });
    sent++;
  }
  ws.close(1000, 'done');
});
ws.on('close', (code) => {
  clearTimeout(timer);
  done({ closeCode: code, sent });
});
ws.on('error', (e) => {
  clearTimeout(timer);
  done({ error: e.message, code: e.code ?? null, sent });
});
