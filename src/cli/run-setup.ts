/**
 * What `analyze` and `compare` do before they read a capture, in the same order and with the same
 * errors: the catalog, then the topology (a file and --role), then the outputs. Each step fails
 * with a one-line message (exit 2) before any capture is read: a usage error or an unwritable
 * --out should not cost a read of a 10 GB capture.
 */
import { OutputError } from '../report/output-file.js';
import type { PcapngWriter } from '../report/pcapng-writer.js';
import { openPcap } from '../report/write-pcap.js';
import {
  TopologyError,
  emptyTopology,
  loadTopologyFile,
  mergeTopologies,
  topologyFromRoleOptions,
  type Topology,
} from '../topology/topology.js';
import { loadCatalogForAnalysis, type LoadedCatalog } from '../verdict/catalog-access.js';
import { catalogSpec, type CatalogChoice } from './catalog-options.js';
import type { Output } from './output.js';
import type { Run } from './run.js';
import { packageVersion } from './version.js';

export interface AuditSetupOptions extends CatalogChoice {
  mediaPorts?: string[];
  topology?: string;
  role: string[];
}

/** The catalog and the given topology, or the message of the usage error that stops the run. */
export function loadCatalogAndTopology(
  opts: AuditSetupOptions,
): { loaded: LoadedCatalog; given: Topology } | string {
  let loaded: LoadedCatalog;
  try {
    loaded = loadCatalogForAnalysis(catalogSpec(opts), opts.mediaPorts ?? []);
  } catch (err) {
    return (err as Error).message;
  }
  let given: Topology = emptyTopology();
  try {
    if (opts.topology) given = loadTopologyFile(opts.topology, loaded.roleIds);
    if (opts.role.length > 0)
      given = mergeTopologies(given, topologyFromRoleOptions(opts.role, loaded.roleIds));
  } catch (err) {
    if (err instanceof TopologyError) return err.message;
    throw err;
  }
  return { loaded, given };
}

/**
 * The report's output and the --write-pcap file, opened through the run, or the message of the
 * output error that stops it (the run is then finished and whatever was opened closed).
 */
export async function openReportOutputs(
  run: Run,
  out: string | undefined,
  writePcap: string | undefined,
): Promise<{ output: Output; pcap: PcapngWriter | undefined } | string> {
  let output: Output | undefined;
  try {
    output = run.openOutput(out);
    const pcap =
      writePcap !== undefined ? openPcap(writePcap, `lync-port-audit ${packageVersion()}`) : undefined;
    return { output, pcap };
  } catch (err) {
    run.finish(0);
    await output?.close(false);
    if (err instanceof OutputError) return err.message;
    throw err;
  }
}
