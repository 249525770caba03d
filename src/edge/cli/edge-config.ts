// npm run edge:config -- --api URL --jobs ID,ID [--out ./edge-out] [--listen 8080] [--workers auto]
// Writes a complete nginx edge (configuration, njs script, playlists, WMPaceInfo, revocation
// list) for the jobs, with the credentials in EDGE_CLIENT_ID / EDGE_CLIENT_SECRET.
import { parseArgs } from 'node:util';
import { fetchEdgeConfig, syncRevocations } from '../edge-agent.js';
import { writeEdgeFiles } from '../edge-files.js';
import { edgeClient, runTool } from './edge-credentials.js';

runTool(async () => {
  const { values } = parseArgs({
    options: {
      api: { type: 'string' },
      jobs: { type: 'string' },
      out: { type: 'string', default: './edge-out' },
      listen: { type: 'string', default: '8080' },
      workers: { type: 'string', default: 'auto' },
    },
  });
  if (!values.jobs) throw new Error('Give --jobs: the comma-separated ids of the jobs to serve.');
  const client = edgeClient(values.api);
  const config = await fetchEdgeConfig(client, values.jobs.split(','));
  writeEdgeFiles(config, { out: values.out, listen: values.listen, workers: values.workers });
  await syncRevocations(client, values.out);
  console.log(
    `Edge for ${config.jobs.length} job(s) written to ${values.out}: run nginx -p ${values.out} -c nginx.conf, and npm run edge:ship -- --api ${values.api} --out ${values.out}`,
  );
});
