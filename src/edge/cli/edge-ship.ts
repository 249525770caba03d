// npm run edge:ship -- --api URL [--out ./edge-out] [--interval 2] [--revocation-interval 30] [--once]
// Ships the edge's access log to the API (access stats) and keeps its revocation list fresh,
// with the credentials in EDGE_CLIENT_ID / EDGE_CLIENT_SECRET.
import { parseArgs } from 'node:util';
import { runEdgeAgent, shipLog, syncRevocations } from '../edge-agent.js';
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
  if (values.once) {
    await syncRevocations(client, values.out);
    console.log(`shipped: ${JSON.stringify(await shipLog(client, values.out))}`);
    return;
  }
  const shipEvery = Number(values.interval) * 1000;
  const revocationEvery = Number(values['revocation-interval']) * 1000;
  if (!(shipEvery > 0) || !(revocationEvery > 0) || revocationEvery > 60_000) {
    throw new Error('--interval must be > 0 and --revocation-interval from 0 to 60 seconds.');
  }
  const stop = new AbortController();
  process.once('SIGTERM', () => stop.abort());
  process.once('SIGINT', () => stop.abort());
  await runEdgeAgent({
    client,
    out: values.out,
    shipEvery,
    revocationEvery,
    signal: stop.signal,
    log: (line) => console.log(line),
  });
});
