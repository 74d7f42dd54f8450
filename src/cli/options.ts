/** Option parsers shared by the commands: numbers with bounds, so that a typo is a usage error (exit 2). */
import { InvalidArgumentError } from 'commander';

export function positiveInt(name: string, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0 || n > max)
      throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}, not "${value}"`);
    return n;
  };
}

export function positiveSeconds(name: string): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be a positive number of seconds, not "${value}"`);
    return n;
  };
}

/** A positive number of milliseconds, returned in seconds. */
export function positiveMilliseconds(name: string): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || n > 60_000)
      throw new InvalidArgumentError(
        `${name} must be a positive number of milliseconds up to 60000, not "${value}"`,
      );
    return n / 1000;
  };
}

export function uint16(name: string): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65535)
      throw new InvalidArgumentError(`${name} must be 0-65535, not "${value}"`);
    return n;
  };
}

/** Flow-table options every command that reads captures accepts. */
export interface FlowTableCliOptions {
  maxFlows?: number;
  tcpTimeout?: number;
  udpTimeout?: number;
  seed?: number;
  progress?: boolean;
  keepDuplicates?: boolean;
  /** Seconds (the option is given in milliseconds). */
  duplicateWindow?: number;
}
