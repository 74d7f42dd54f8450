/** Types of scripts/fuzz/hostile.mjs, for the tests that build crafted captures with it. */
export const KINDS: readonly string[];

export interface HostileResult {
  packets: number;
  flows: number;
}

export interface HostileOptions {
  count: number;
  out: string;
  port?: number;
  replies?: boolean;
}

export function equalEndpoints(options: HostileOptions): HostileResult;
export function udpFlows(options: HostileOptions): HostileResult;
export function synScan(options: HostileOptions): HostileResult;
export function sipFlows(options: HostileOptions): HostileResult;
export function oldHashCollisions(options: HostileOptions): HostileResult;
export function generateHostile(kind: string, options: HostileOptions): HostileResult;
export function oldEndpointHash(addr: number, port: number): number;
export function oldFlowHash(a: number, aPort: number, b: number, bPort: number, proto: number): number;
export const COLLISION_BITS: number;
