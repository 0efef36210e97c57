// examples/count-dns.ts: the fan-out worker (runs on its own thread)
import { defineWorker } from 'netring/fanout';
let dns = 0;                          // module state: each worker thread has its own copy
export default defineWorker({
  batch(batch, ctx) {                 // one call per ring block, never per packet
    for (let p = batch.next(); p !== null; p = batch.next()) {
      const d = p.data, o = p.offset;
      if (d[o + 23] === 17 && ((d[o + 36] << 8) | d[o + 37]) === 53) dns++;
    }
    ctx.counters[0] = dns;            // shared memory: the main thread sees it without messages
  },
  finish() { return { dns }; },       // sent once, at stop
});
