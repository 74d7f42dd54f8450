/** Every recognizer, in the order ties are broken (earlier wins an equal claim). */
import { dcerpc } from './dcerpc.js';
import { dhcp } from './dhcp.js';
import { http } from './http.js';
import { media } from './media.js';
import { msTurnTcp } from './ms-turn-tcp.js';
import { psom } from './psom.js';
import { smb } from './smb.js';
import { sip } from './sip.js';
import { tls } from './tls.js';
import type { Recognizer } from './types.js';

export const RECOGNIZERS: readonly Recognizer[] = [http, msTurnTcp, psom, tls, dhcp, dcerpc, smb, sip, media];

export { createAppObserver, type AppObserver } from './app-observer.js';
export type { AppName, AppResult, Finding, Recognizer } from './types.js';
export { attachApp } from './attach.js';
