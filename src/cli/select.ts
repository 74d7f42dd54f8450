/**
 * `--select` for --write-pcap: which judged flows' packets to write. Each option is KEY=VALUES
 * (values comma-separated, any of them matches); several options must all match:
 *   verdict=blocked,refused   port=5061 or port=49152-57500 (either end's port)
 *   proto=tcp|udp|icmp         role=front-end (either end's role)     all (every flow)
 * Without --select: the problem flows (every verdict an administrator acts on).
 */
import { InvalidArgumentError } from 'commander';
import { VERDICTS, isProblem, type JudgedFlow, type Verdict } from '../verdict/types.js';

export type FlowFilter = (f: JudgedFlow) => boolean;

function ports(text: string): [number, number] {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2] ?? m[1]) : NaN;
  if (!m || lo < 1 || hi > 65535 || lo > hi)
    throw new InvalidArgumentError(`--select port=${text}: a port or a range like 49152-57500`);
  return [lo, hi];
}

function one(spec: string): FlowFilter {
  if (spec === 'all') return () => true;
  const eq = spec.indexOf('=');
  const key = eq < 0 ? spec : spec.slice(0, eq);
  const values = (eq < 0 ? '' : spec.slice(eq + 1)).split(',').filter((v) => v.length > 0);
  if (values.length === 0 && key !== 'all')
    throw new InvalidArgumentError(
      `--select ${spec}: say KEY=VALUE, e.g. verdict=blocked (keys: verdict, port, proto, role, all)`,
    );
  switch (key) {
    case 'verdict': {
      for (const v of values)
        if (!(VERDICTS as readonly string[]).includes(v))
          throw new InvalidArgumentError(`--select verdict=${v}: not a verdict (${VERDICTS.join(', ')})`);
      const set = new Set(values as Verdict[]);
      return (f) => set.has(f.verdict);
    }
    case 'port': {
      const ranges = values.map(ports);
      const hit = (p: number): boolean => ranges.some(([lo, hi]) => p >= lo && p <= hi);
      return (f) => hit(f.resp_p) || hit(f.orig_p);
    }
    case 'proto': {
      for (const v of values)
        if (!['tcp', 'udp', 'icmp', 'sctp'].includes(v) && !/^ip-\d+$/.test(v))
          throw new InvalidArgumentError(`--select proto=${v}: tcp, udp, icmp, sctp or ip-N`);
      const set = new Set(values);
      return (f) => set.has(f.proto);
    }
    case 'role': {
      const set = new Set(values);
      const has = (main: string | null, all: string[] | undefined): boolean =>
        (all ?? (main === null ? [] : [main])).some((r) => set.has(r));
      return (f) => has(f.orig_role, f.orig_roles) || has(f.resp_role, f.resp_roles);
    }
    default:
      throw new InvalidArgumentError(
        `--select ${spec}: unknown key "${key}" (verdict, port, proto, role, all)`,
      );
  }
}

/** The filter the --select options describe (all must match); the problem flows when none is given. */
export function flowFilter(specs: readonly string[]): FlowFilter {
  if (specs.length === 0) return (f) => isProblem(f.verdict);
  const filters = specs.map(one);
  return (f) => filters.every((test) => test(f));
}

/** Checks --select options at parse time, so a typo is a usage error before any capture is read. */
export function collectSelect(value: string, previous: string[]): string[] {
  one(value);
  return [...previous, value];
}
