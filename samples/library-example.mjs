// @ts-check
// The library in use (README, "Using it as a library"); test/library.test.ts runs this file and
// type-checks it against dist/index.d.ts. Run it with: node samples/library-example.mjs
import {
  analyzeCaptures,
  flowRecords,
  isProblem,
  loadCatalogForAnalysis,
  loadTopologyFile,
} from 'lync-port-audit';

const capture = new URL('edge-udp-blocked/capture.pcapng', import.meta.url).pathname;
const topologyFile = new URL('edge-udp-blocked/topology.json', import.meta.url).pathname;

// 1. Flow records, as `lync-port-audit flows` prints them, one per flow as it ends.
const stream = flowRecords(capture);
/** @type {Map<string, number>} */
const apps = new Map();
for await (const flow of stream) apps.set(flow.app ?? 'unknown', (apps.get(flow.app ?? 'unknown') ?? 0) + 1);
const { captures, stats } = await stream.result;
console.log(`${captures[0].packets} packets, ${stats.flows} flows:`, Object.fromEntries(apps));

// 2. The analyze pipeline: a catalog, a topology (leave it out to infer roles), verdicts per role.
const catalog = loadCatalogForAnalysis('lync2010', []);
const { analysis } = await analyzeCaptures([capture], {
  catalog,
  topology: loadTopologyFile(topologyFile, catalog.roleIds),
});
for (const role of analysis.roles)
  for (const row of role.rows)
    if (row.status === 'problem')
      console.log(`${role.role} ${row.transport.toUpperCase()} ${row.ports} (${row.service}):`, row.verdicts);
const problems = analysis.flows.filter((f) => isProblem(f.verdict));
console.log(`${problems.length} problem flows; first: ${problems[0]?.reason}`);
