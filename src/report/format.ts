/** Small formatting helpers shared by the renderers. */

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** ISO-like UTC time with seconds, e.g. 2026-11-26 10:00:05Z. */
export function formatTime(ts: number): string {
  if (!Number.isFinite(ts)) return '-';
  const d = new Date(Math.round(ts * 1000));
  if (Number.isNaN(d.getTime())) return String(ts);
  return d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m}m${String(s).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}

export function portLabel(transport: string, ports: string): string {
  const t = transport === 'both' ? 'TCP/UDP' : transport.toUpperCase();
  return `${t} ${ports}`;
}
