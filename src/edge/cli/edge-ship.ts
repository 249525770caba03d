// npm run edge:ship -- --api URL [--out ./edge-out] [--interval 2] [--revocation-interval 30] [--once]
// Ships the edge's access log to the API (access stats) and keeps its revocation list fresh,
// with the credentials in EDGE_CLIENT_ID / EDGE_CLIENT_SECRET.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { shipLog, syncRevocations } from '../edge-agent.js';
import { edgeClient, runTool } from './edge-credentials.js';

runTool(async () => {
  const { values } = parseArgs({
    options: {
      api: { type: 'string' },
      out: { type: 'string', default: './edge-out' },
      interval: { type: 'string', default: '2' },
      'revocation-interval': { type: 'string', default: '30' },
      once: { type: 'boolean', default: false },
    },
  });
  const client = edgeClient(values.api);
  const shipEvery = Number(values.interval) * 1000;
  const revocationEvery = Number(values['revocation-interval']) * 1000;
  if (!(shipEvery > 0) || !(revocationEvery > 0) || revocationEvery > 60_000) {
    throw new Error('--interval must be > 0 and --revocation-interval from 0 to 60 seconds.');
  }
  let revocationsDue = 0;
  for (;;) {
    try {
      if (Date.now() >= revocationsDue) {
        if (await syncRevocations(client, values.out)) console.log('revocation list updated');
        revocationsDue = Date.now() + revocationEvery;
      }
      const receipt = await shipLog(client, values.out);
      if (receipt.received > 0) console.log(`shipped: ${JSON.stringify(receipt)}`);
    } catch (error) {
      if (values.once) throw error;
      console.error(`edge:ship: ${(error as Error).message}; retrying`);
    }
    if (values.once) return;
    await sleep(Math.min(shipEvery, Math.max(0, revocationsDue - Date.now())));
  }
});
