/**
 * SMB on 445 and 139: SMB2 headers and negotiate bodies built byte by byte from [MS-SMB2] 2.2.1,
 * 2.2.3 and 2.2.4, SMB1 from [MS-CIFS] 2.2.3.1 and 2.2.4.52, the NetBIOS session service from
 * RFC 1002 4.3. Failed statuses (STATUS_ACCESS_DENIED, STATUS_LOGON_FAILURE) are findings;
 * STATUS_MORE_PROCESSING_REQUIRED is not.
 */
import { describe, expect, it } from 'vitest';
import { ByteConn, recognizeTrace } from './helpers/app.js';
import { Trace } from './helpers/traffic.js';
import type { FlowRecord } from '../src/flow/record.js';

/** Direct TCP transport: a zero byte and a 24-bit length (MS-SMB2 2.1). */
function direct(msg: Buffer): Buffer {
  return Buffer.concat([
    Buffer.of(0, (msg.length >> 16) & 0xff, (msg.length >> 8) & 0xff, msg.length & 0xff),
    msg,
  ]);
}

/** [MS-SMB2] 2.2.1.2 sync header. */
function smb2(command: number, reply: boolean, status: number, messageId: number, body: Buffer): Buffer {
  const h = Buffer.alloc(64);
  h.write('\xfeSMB', 0, 'latin1');
  h.writeUInt16LE(64, 4);
  h.writeUInt32LE(status >>> 0, 8);
  h.writeUInt16LE(command, 12);
  h.writeUInt16LE(1, 14);
  h.writeUInt32LE(reply ? 1 : 0, 16);
  h.writeBigUInt64LE(BigInt(messageId), 24);
  return Buffer.concat([h, body]);
}

function negotiateRequest(dialects: number[]): Buffer {
  const b = Buffer.alloc(36 + 2 * dialects.length);
  b.writeUInt16LE(36, 0);
  b.writeUInt16LE(dialects.length, 2);
  dialects.forEach((d, k) => b.writeUInt16LE(d, 36 + 2 * k));
  return b;
}

function negotiateResponse(dialect: number): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt16LE(65, 0);
  b.writeUInt16LE(dialect, 4);
  return b;
}

function treeConnect(path: string): Buffer {
  const p = Buffer.from(path, 'utf16le');
  const b = Buffer.alloc(8);
  b.writeUInt16LE(9, 0);
  b.writeUInt16LE(64 + 8, 4);
  b.writeUInt16LE(p.length, 6);
  return Buffer.concat([b, p]);
}

function errorBody(): Buffer {
  return Buffer.from('0900000000000000', 'hex');
}

/** [MS-CIFS] 2.2.3.1 header + negotiate request with dialect strings. */
function smb1Negotiate(dialects: string[]): Buffer {
  const h = Buffer.alloc(32);
  h.write('\xffSMB', 0, 'latin1');
  h[4] = 0x72;
  h.writeUInt16LE(0xc801, 10); // unicode, NT status, extended security
  const bytes = Buffer.concat(
    dialects.map((d) => Buffer.concat([Buffer.of(2), Buffer.from(d + '\0', 'latin1')])),
  );
  const bc = Buffer.alloc(2);
  bc.writeUInt16LE(bytes.length);
  return Buffer.concat([h, Buffer.of(0), bc, bytes]);
}

function smb1NegotiateResponse(index: number): Buffer {
  const h = Buffer.alloc(32);
  h.write('\xffSMB', 0, 'latin1');
  h[4] = 0x72;
  h[9] = 0x80;
  h.writeUInt16LE(0xc801, 10);
  const words = Buffer.alloc(34);
  words.writeUInt16LE(index, 0);
  return Buffer.concat([h, Buffer.of(17), words, Buffer.alloc(2)]);
}

const ENDS = { client: '10.0.0.10', server: '10.0.0.30', cport: 53000, sport: 445 };

function only(records: FlowRecord[]): FlowRecord {
  const t = records.filter((r) => r.proto === 'tcp');
  expect(t).toHaveLength(1);
  return t[0];
}

describe('SMB recognizer', () => {
  it('SMB2/3: the negotiated dialect, tree connects, and refusals as findings', async () => {
    const t = new Trace();
    new ByteConn(t, ENDS)
      .handshake()
      .send(true, direct(smb2(0, false, 0, 0, negotiateRequest([0x0202, 0x0210, 0x0300, 0x0302, 0x0311]))))
      .send(false, direct(smb2(0, true, 0, 0, negotiateResponse(0x0311))))
      .send(true, direct(smb2(1, false, 0, 1, Buffer.alloc(24))))
      .send(false, direct(smb2(1, true, 0xc0000016, 1, errorBody()))) // more processing: routine
      .send(true, direct(smb2(1, false, 0, 2, Buffer.alloc(24))))
      .send(false, direct(smb2(1, true, 0, 2, Buffer.alloc(8))))
      .send(true, direct(smb2(3, false, 0, 3, treeConnect('\\\\fe01.contoso.com\\xds-replica'))))
      .send(false, direct(smb2(3, true, 0xc0000022, 3, errorBody())))
      .close();
    const r = only(await recognizeTrace(t, 'smb2'));
    expect(r.app).toBe('smb');
    expect(r.app_detail).toMatchObject({
      version: 'SMB3',
      dialect: 'SMB 3.1.1',
      client_dialects: ['SMB 2.0.2', 'SMB 2.1', 'SMB 3.0', 'SMB 3.0.2', 'SMB 3.1.1'],
      commands: { NEGOTIATE: 1, SESSION_SETUP: 2, TREE_CONNECT: 1 },
      tree_connects: ['\\\\fe01.contoso.com\\xds-replica'],
      errors: [{ status: 'STATUS_ACCESS_DENIED', command: 'TREE_CONNECT', count: 1 }],
    });
    expect(r.app_findings).toEqual([
      expect.objectContaining({
        kind: 'smb-error-status',
        severity: 'error',
        detail: expect.objectContaining({ status: 'STATUS_ACCESS_DENIED' }),
      }),
    ]);
  });

  it('messages split across segments, several per segment, and a large READ body skipped', async () => {
    const t = new Trace();
    const read = direct(smb2(8, true, 0, 5, Buffer.alloc(60000, 0x42)));
    new ByteConn(t, ENDS)
      .handshake()
      .send(
        true,
        Buffer.concat([
          direct(smb2(0, false, 0, 0, negotiateRequest([0x0210]))),
          direct(smb2(13, false, 0, 1, Buffer.alloc(4))),
        ]),
        [10, 70],
      )
      .send(
        false,
        Buffer.concat([
          direct(smb2(0, true, 0, 0, negotiateResponse(0x0210))),
          read,
          direct(smb2(1, true, 0xc000006d, 6, errorBody())),
        ]),
        [20, 1460, 2920, 4380, 30000],
      )
      .close();
    const r = only(await recognizeTrace(t, 'smb2-split'));
    expect(r.app_detail).toMatchObject({
      version: 'SMB2',
      dialect: 'SMB 2.1',
      commands: { NEGOTIATE: 1, ECHO: 1 },
    });
    expect(r.app_findings?.[0]).toMatchObject({
      severity: 'error',
      detail: { status: 'STATUS_LOGON_FAILURE', command: 'SESSION_SETUP' },
    });
  });

  it('SMB1 over NetBIOS on 139: session request, dialect strings, the chosen dialect', async () => {
    const t = new Trace();
    const sessionRequest = Buffer.concat([Buffer.of(0x81, 0, 0, 68), Buffer.alloc(68, 0x41)]);
    new ByteConn(t, { ...ENDS, sport: 139 })
      .handshake()
      .send(true, sessionRequest)
      .send(false, Buffer.of(0x82, 0, 0, 0))
      .send(true, direct(smb1Negotiate(['PC NETWORK PROGRAM 1.0', 'NT LM 0.12'])))
      .send(false, direct(smb1NegotiateResponse(1)))
      .close();
    const r = only(await recognizeTrace(t, 'smb1-139'));
    expect(r.app_detail).toMatchObject({
      version: 'SMB1',
      dialect: 'NT LM 0.12',
      client_dialects: ['PC NETWORK PROGRAM 1.0', 'NT LM 0.12'],
      netbios: ['session_request', 'positive_session_response'],
    });
  });

  it('a refused NetBIOS session is a finding; garbage with an SMB-looking start is not SMB', async () => {
    const t = new Trace();
    new ByteConn(t, { ...ENDS, sport: 139 })
      .handshake()
      .send(true, Buffer.concat([Buffer.of(0x81, 0, 0, 68), Buffer.alloc(68, 0x41)]))
      .send(false, Buffer.of(0x83, 0, 0, 1, 0x82))
      .close();
    const r = only(await recognizeTrace(t, 'nbss-refused'));
    expect(r.app_findings?.[0].detail).toMatchObject({ status: 'negative_session_response' });

    const t2 = new Trace();
    new ByteConn(t2, ENDS).handshake().send(true, Buffer.from('00000004fe534d42', 'hex')).close();
    expect(only(await recognizeTrace(t2, 'smb-garbage')).app).toBeUndefined();
  });
});
