/**
 * tshark as the reference: its conversation tables (`-z conv,tcp -z conv,udp`) and capinfos'
 * packet count. Tests that use it skip with a printed reason when tshark is not installed.
 */
import { spawnSync } from 'node:child_process';

let available: boolean | undefined;

export function tsharkAvailable(): boolean {
  if (available === undefined) {
    const r = spawnSync('tshark', ['--version'], { encoding: 'utf8' });
    available = r.status === 0;
  }
  return available;
}

export function tsharkSkipReason(what: string): string | undefined {
  if (tsharkAvailable()) return undefined;
  const reason = `${what}: skipped, tshark is not installed (apt-get install tshark)`;
  console.warn(reason);
  return reason;
}

export interface ConvRow {
  proto: 'tcp' | 'udp';
  a: string;
  b: string;
  /** Frames and bytes from B to A ("<-") and from A to B ("->"); bytes as tshark prints them. */
  framesBA: number;
  bytesBA: string;
  framesAB: number;
  bytesAB: string;
}

const ROW =
  /^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+(\d+ (?:bytes|kB|MB|GB|TB))\s+(\d+)\s+(\d+ (?:bytes|kB|MB|GB|TB))\s+(\d+)\s+/;

/** Runs `tshark -q -z conv,tcp -z conv,udp` and parses the rows of both tables. */
export function tsharkConversations(capture: string, extraArgs: string[] = []): ConvRow[] {
  const r = spawnSync(
    'tshark',
    ['-n', '-r', capture, ...extraArgs, '-q', '-z', 'conv,tcp', '-z', 'conv,udp'],
    {
      encoding: 'utf8',
      maxBuffer: 512 * 1024 * 1024,
    },
  );
  const rows: ConvRow[] = [];
  let proto: 'tcp' | 'udp' | undefined;
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('TCP Conversations')) proto = 'tcp';
    else if (line.startsWith('UDP Conversations')) proto = 'udp';
    const m = ROW.exec(line);
    if (m && proto)
      rows.push({
        proto,
        a: m[1],
        b: m[2],
        framesBA: Number(m[3]),
        bytesBA: m[4],
        framesAB: Number(m[5]),
        bytesAB: m[6],
      });
  }
  return rows;
}

/** Wireshark's format_size (wsutil/str_util.c) with SI prefixes, as the conversation table prints bytes. */
export function formatSize(size: number): string {
  const p = 1000;
  const div = (n: number, times: number): number => {
    let x = n;
    for (let i = 0; i < times; i++) x = Math.trunc(x / p);
    return x;
  };
  if (div(size, 4) >= 10) return `${div(size, 4)} TB`;
  if (div(size, 3) >= 10) return `${div(size, 3)} GB`;
  if (div(size, 2) >= 10) return `${div(size, 2)} MB`;
  if (div(size, 1) >= 10) return `${div(size, 1)} kB`;
  return `${size} bytes`;
}

/** Packets in the file as capinfos counts them (pcapng custom blocks are not packets). */
export function capinfosPackets(capture: string): number | undefined {
  const r = spawnSync('capinfos', ['-M', '-c', capture], { encoding: 'utf8' });
  const m = /Number of packets:\s+(\d+)/.exec(r.stdout);
  return m ? Number(m[1]) : undefined;
}

/** `tshark -T fields` for every frame: one array of field values per frame (tab-separated by tshark). */
export function tsharkFields(capture: string, fields: string[], extraArgs: string[] = []): string[][] {
  const args = ['-n', '-r', capture, ...extraArgs, '-T', 'fields'];
  for (const f of fields) args.push('-e', f);
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  return r.stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'));
}

/** Whether editcap (which ships with tshark) can be run. */
export function editcapAvailable(): boolean {
  return spawnSync('editcap', ['-v'], { encoding: 'utf8' }).status === 0;
}

/** Converts a capture with editcap into another file type (`-F pcap`, `nsecpcap`, `pcapng`, `modpcap`). */
export function editcap(input: string, output: string, fileType: string): void {
  const r = spawnSync('editcap', ['-F', fileType, input, output], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`editcap -F ${fileType} ${input}: ${r.stderr}`);
}
