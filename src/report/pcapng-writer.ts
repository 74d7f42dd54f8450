/**
 * Writes pcapng (draft-ietf-opsawg-pcapng, the format Wireshark saves): a Section Header Block
 * (section 4.1) naming this tool, an Interface Description Block (4.2) per source capture and
 * link type, with the capture's name and nanosecond timestamps (if_tsresol 9), and an Enhanced
 * Packet Block (4.3) per packet with its comments (opt_comment, section 3.5: UTF-8, several
 * allowed; Wireshark shows them as frame.comment). Little-endian; blocks go through a 1 MiB
 * buffer to one file descriptor, so memory stays flat whatever is written. The file is written as
 * FILE.partial and named FILE by close() (report/output-file.ts).
 */
import { writeSync } from 'node:fs';
import {
  commitOutputFile,
  discardOutputFile,
  keepPartialOutputFile,
  openOutputFile,
  outputError,
  type OutputFile,
} from './output-file.js';

const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 0x00000001;
const BT_EPB = 0x00000006;
const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const BUFFER_SIZE = 1 << 20;

/** C0 and C1 controls become \xNN: a comment holds text that came from packets. */
function commentText(text: string): string {
  return text.replace(
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

function option(code: number, value: Buffer): Buffer {
  const padded = (value.length + 3) & ~3;
  const b = Buffer.alloc(4 + padded);
  b.writeUInt16LE(code, 0);
  b.writeUInt16LE(value.length, 2);
  value.copy(b, 4);
  return b;
}

function options(list: Buffer[]): Buffer {
  if (list.length === 0) return Buffer.alloc(0);
  return Buffer.concat([...list, Buffer.alloc(4)]); // opt_endofopt: code 0, length 0
}

export class PcapngWriter {
  private readonly file: OutputFile;
  private readonly buf = Buffer.allocUnsafe(BUFFER_SIZE);
  private used = 0;
  private readonly interfaces = new Map<string, number>();
  private closed = false;
  packets = 0;
  bytes = 0;

  /**
   * Creates `path`.partial and writes the section header. Throws an OutputError ("cannot write
   * PATH: permission denied") when it cannot.
   */
  constructor(
    readonly path: string,
    application: string,
  ) {
    this.file = openOutputFile(path);
    const body = Buffer.alloc(16);
    body.writeUInt32LE(0x1a2b3c4d, 0);
    body.writeUInt16LE(1, 4);
    body.writeUInt16LE(0, 6);
    body.writeBigInt64LE(-1n, 8); // section length not given
    this.block(BT_SHB, body, options([option(SHB_USERAPPL, Buffer.from(application, 'utf8'))]));
  }

  /** The interface id for packets of `linkType` from the capture `name` (one IDB each, made once). */
  interfaceFor(name: string, linkType: number, description: string): number {
    const key = `${linkType}\u0000${name}`;
    const known = this.interfaces.get(key);
    if (known !== undefined) return known;
    const id = this.interfaces.size;
    const body = Buffer.alloc(8);
    body.writeUInt16LE(linkType, 0);
    body.writeUInt32LE(0, 4); // no snapshot length limit
    this.block(
      BT_IDB,
      body,
      options([
        option(IF_NAME, Buffer.from(commentText(name), 'utf8')),
        option(IF_DESCRIPTION, Buffer.from(commentText(description), 'utf8')),
        option(IF_TSRESOL, Buffer.of(9)),
      ]),
    );
    this.interfaces.set(key, id);
    return id;
  }

  /** One packet: `data` as captured, its wire length, its time, and the comments to show with it. */
  packet(
    iface: number,
    tsSec: number,
    tsNsec: number,
    data: Buffer,
    origLen: number,
    comments: readonly string[],
  ): void {
    const padded = (data.length + 3) & ~3;
    const head = Buffer.alloc(20 + padded);
    const units = BigInt(tsSec) * 1_000_000_000n + BigInt(tsNsec);
    head.writeUInt32LE(iface, 0);
    head.writeUInt32LE(Number(units >> 32n), 4);
    head.writeUInt32LE(Number(units & 0xffffffffn), 8);
    head.writeUInt32LE(data.length, 12);
    head.writeUInt32LE(origLen, 16);
    data.copy(head, 20);
    this.block(
      BT_EPB,
      head,
      options(comments.map((c) => option(OPT_COMMENT, Buffer.from(commentText(c), 'utf8')))),
    );
    this.packets++;
    this.bytes += data.length;
  }

  /** Writes what is buffered and names the file `path`. Throws an OutputError (the file is then removed). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.flush();
    } catch (err) {
      discardOutputFile(this.file);
      throw err;
    }
    commitOutputFile(this.file);
  }

  /** After a failure elsewhere: removes `path`.partial. */
  discard(): void {
    if (this.closed) return;
    this.closed = true;
    discardOutputFile(this.file);
  }

  /** When interrupted: writes what is buffered and leaves it as `path`.partial, which it returns. */
  keepPartial(): string {
    if (!this.closed) {
      this.closed = true;
      try {
        this.flush();
      } catch {
        discardOutputFile(this.file);
        return this.file.writtenPath;
      }
    }
    return keepPartialOutputFile(this.file);
  }

  /** type, total length, body, options, total length again (section 3.1). */
  private block(type: number, body: Buffer, opts: Buffer): void {
    const total = 12 + body.length + opts.length;
    if (this.used + total > BUFFER_SIZE) this.flush();
    if (total > BUFFER_SIZE) {
      const b = Buffer.alloc(total);
      this.fill(b, 0, type, total, body, opts);
      this.write(b, total);
      return;
    }
    this.fill(this.buf, this.used, type, total, body, opts);
    this.used += total;
  }

  private fill(b: Buffer, at: number, type: number, total: number, body: Buffer, opts: Buffer): void {
    b.writeUInt32LE(type, at);
    b.writeUInt32LE(total, at + 4);
    body.copy(b, at + 8);
    opts.copy(b, at + 8 + body.length);
    b.writeUInt32LE(total, at + total - 4);
  }

  private flush(): void {
    if (this.used > 0) this.write(this.buf, this.used);
    this.used = 0;
  }

  private write(b: Buffer, length: number): void {
    let done = 0;
    try {
      while (done < length) done += writeSync(this.file.fd, b, done, length - done);
    } catch (err) {
      throw outputError(this.path, err);
    }
  }
}

export const PCAPNG_OPTION = { OPT_ENDOFOPT, OPT_COMMENT } as const;
