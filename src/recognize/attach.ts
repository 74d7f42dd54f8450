import type { FlowRecord } from '../flow/record.js';
import type { AppResult } from './types.js';

/** Copies a recognize result into a flow record (fields app, app_confidence, app_detail, app_findings). */
export function attachApp(record: FlowRecord, result: AppResult | undefined): FlowRecord {
  if (result === undefined || result.app === 'unknown') return record;
  record.app = result.app;
  record.app_confidence = Math.round(result.confidence * 100) / 100;
  if (Object.keys(result.detail).length > 0) record.app_detail = result.detail;
  if (result.findings.length > 0) record.app_findings = result.findings;
  return record;
}
