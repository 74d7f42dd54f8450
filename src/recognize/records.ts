/**
 * Capture → flows → flow records with the recognize stage's result attached: what `flows` prints,
 * one record per finished flow. The CLI's `flows` and `analyze` and the library's `flowRecords()`
 * all read captures through here, so they see the same records.
 */
import { readFlows, type ReadFlowsOptions, type ReadFlowsResult } from '../flow/read.js';
import { toFlowRecord, type FlowRecord } from '../flow/record.js';
import { attachApp } from './attach.js';
import { createAppObserver } from './app-observer.js';
import { RECOGNIZERS } from './index.js';
import { addFault, emptyFaults, type RecognizerFault, type RecognizerFaults } from './faults.js';
import type { Recognizer } from './types.js';

export interface ReadFlowRecordsOptions extends Omit<ReadFlowsOptions, 'onFlow' | 'observer'> {
  /** Each finished flow's record, with the capture time of the latest packet read so far. */
  onRecord: (record: FlowRecord, now: number) => void;
  /** Community ID seed (default 0). */
  seed?: number;
  /** The recognizers offered every flow's payload (default: all of them; [] for none). */
  recognizers?: readonly Recognizer[];
  /** Each recogniser fault as it happens (once per flow and recogniser); they are also in the result. */
  onRecognizerFault?: (fault: RecognizerFault) => void;
}

export interface ReadFlowRecordsResult extends ReadFlowsResult {
  /** Recogniser faults: how many, and the first ones (a warning each). */
  recognizerFaults: RecognizerFaults;
}

export async function readFlowRecords(
  inputs: string[],
  options: ReadFlowRecordsOptions,
): Promise<ReadFlowRecordsResult> {
  const { onRecord, seed = 0, recognizers = RECOGNIZERS, onRecognizerFault, ...rest } = options;
  const recognizerFaults = emptyFaults();
  const apps = createAppObserver(recognizers, (fault) => {
    addFault(recognizerFaults, fault);
    onRecognizerFault?.(fault);
  });
  const result = await readFlows(inputs, {
    ...rest,
    observer: apps.observer,
    onFlow: (flow, now) => onRecord(attachApp(toFlowRecord(flow, seed), apps.finish(flow)), now),
  });
  return { ...result, recognizerFaults };
}
