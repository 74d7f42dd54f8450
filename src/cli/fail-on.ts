/** `--fail-on`: which verdicts make `analyze` and `merge` exit with status 1. */
import {
  APPLICATION_PROBLEMS,
  CONNECTIVITY_PROBLEMS,
  EXPECTATION_PROBLEMS,
  isProblem,
  type Verdict,
} from '../verdict/types.js';

export const FAIL_ON_CHOICES = ['blocked', 'failed', 'unexpected', 'any', 'none'] as const;
export type FailOn = (typeof FAIL_ON_CHOICES)[number];

export function failing(verdict: Verdict, failOn: FailOn): boolean {
  if (failOn === 'none') return false;
  if (failOn === 'blocked') return CONNECTIVITY_PROBLEMS.has(verdict);
  if (failOn === 'failed') return APPLICATION_PROBLEMS.has(verdict);
  if (failOn === 'unexpected') return EXPECTATION_PROBLEMS.has(verdict);
  return isProblem(verdict);
}
