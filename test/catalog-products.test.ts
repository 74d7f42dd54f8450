/**
 * The built-in catalogs against the research notes (../shared/research/microsoft-ports.md and
 * later-products.md): every row those files name for a product is in that product's catalog,
 * with its port, transport, direction and peers; and the differences between versions that the
 * notes document hold (sfb2019 has no XMPP, lync2013 adds 5086/5087 and 8060/8061, teams has
 * UDP 3478-3481, ...). Each fact below quotes the line of the notes it comes from; where
 * ../shared is present, the quote must be in that file, so a fact cannot drift from its source.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  coversAny,
  listProducts,
  loadCatalog,
  type Catalog,
  type CatalogRow,
  type Direction,
  type RowTransport,
} from '../src/catalog/index.js';
import { SHARED_DIR } from './helpers/shared.js';

type Note = 'microsoft-ports.md' | 'later-products.md';

interface Expect {
  /** The role the row is for (a group covers its members). */
  role: string;
  direction: Direction;
  ports: string;
  transport: RowTransport;
  /** Roles that must be among the row's peers ("any" for any). */
  peers: string[];
  protocol?: string;
  optional?: boolean;
  id?: string;
}

interface Fact {
  products: string[];
  note: Note;
  /** Text of the note the fact comes from. */
  quote: string;
  rows: Expect[];
}

const ONPREM = ['lync2010', 'lync2013', 'sfb2015', 'sfb2019'];
const LATER = ['lync2013', 'sfb2015', 'sfb2019'];
const SFB = ['sfb2015', 'sfb2019'];

const fe = (ports: string, peers: string[], more: Partial<Expect> = {}): Expect => ({
  role: 'front-end',
  direction: 'inbound',
  ports,
  transport: 'tcp',
  peers,
  ...more,
});
const row = (
  role: string,
  direction: Direction,
  ports: string,
  transport: RowTransport,
  peers: string[],
  more: Partial<Expect> = {},
): Expect => ({
  role,
  direction,
  ports,
  transport,
  peers,
  ...more,
});

const FACTS: Fact[] = [
  // microsoft-ports.md §1: Lync Server 2010, checked (and kept by the later products).
  {
    products: ONPREM,
    note: 'microsoft-ports.md',
    quote: 'Front End: 5060 (optional static routes), 5061 TLS/MTLS, 444 HTTPS (Focus), 135 DCOM/RPC',
    rows: [
      fe('5060', ['trusted-application']),
      fe('5061', ['client', 'phone', 'internal-servers', 'edge-internal'], { protocol: 'sip-tls' }),
      fe('444', ['internal-servers']),
      fe('135', ['internal-servers'], { protocol: 'dcom-rpc' }),
    ],
  },
  {
    products: ONPREM,
    note: 'microsoft-ports.md',
    quote: '5062 IM conferencing, 8057/8058 TLS PSOM, 5063 A/V conferencing, 80/443 web compatibility',
    rows: [
      fe('5062', ['front-end']),
      fe('8057', ['client'], { protocol: 'psom-tls' }),
      fe('8058', ['client'], { protocol: 'psom-tls' }),
      fe('5063', ['front-end']),
      fe('80', ['client']),
      fe('443', ['client']),
    ],
  },
  {
    products: ONPREM,
    note: 'microsoft-ports.md',
    quote:
      '5064+5072 Conferencing Attendant, 5065 application sharing, 5073 announcements, 5075 Call Park, 5076 Audio Test, 5066 E9-1-1 gateway, 5071 and 8404/MTLS Response Group, 5080+448 Bandwidth Policy',
    rows: [
      ...['5064', '5072', '5065', '5073', '5075', '5076', '5066', '5071', '8404'].map((p) =>
        fe(p, ['front-end']),
      ),
      fe('5080', ['edge-internal']),
      fe('448', ['internal-servers']),
    ],
  },
  {
    products: ONPREM,
    note: 'microsoft-ports.md',
    quote: '445 CMS replication',
    rows: [
      row('cms', 'outbound', '445', 'tcp', ['internal-servers'], { protocol: 'smb' }),
      row('internal-servers', 'inbound', '445', 'tcp', ['cms']),
    ],
  },
  {
    products: ONPREM,
    note: 'microsoft-ports.md',
    quote: 'Collocated Mediation: 5070, 5067 TLS, 5068, 5081, 5082 TLS.',
    rows: [
      row('collocated-mediation', 'inbound', '5070', 'tcp', ['front-end']),
      row('collocated-mediation', 'inbound', '5067', 'tcp', ['pstn-gateway'], { protocol: 'sip-tls' }),
      row('collocated-mediation', 'inbound', '5068', 'tcp', ['pstn-gateway'], { protocol: 'sip' }),
      row('collocated-mediation', 'outbound', '5081', 'tcp', ['pstn-gateway']),
      row('collocated-mediation', 'outbound', '5082', 'tcp', ['pstn-gateway'], { protocol: 'sip-tls' }),
    ],
  },
  {
    products: ONPREM,
    note: 'microsoft-ports.md',
    quote: 'All internal servers: 49152–57500 TCP/UDP (audio).',
    rows: [
      row('internal-servers', 'inbound', '49152-57500', 'both', ['client', 'edge-internal', 'pstn-gateway']),
    ],
  },
  {
    products: ONPREM,
    note: 'microsoft-ports.md',
    quote: 'Directors: 5060/5061. Mediation servers: 5070/5067/5068.',
    rows: [
      row('director', 'inbound', '5060', 'tcp', ['trusted-application']),
      row('director', 'inbound', '5061', 'tcp', ['client', 'internal-servers', 'edge-internal']),
      row('mediation', 'inbound', '5070', 'tcp', ['front-end'], { protocol: 'sip-mtls' }),
      row('mediation', 'inbound', '5067', 'tcp', ['pstn-gateway']),
      row('mediation', 'inbound', '5068', 'tcp', ['pstn-gateway']),
    ],
  },
  {
    products: ONPREM,
    note: 'microsoft-ports.md',
    quote: 'L13 and S15 give 57501–65535 (video) and 49152–65535 TCP (application sharing)',
    rows: [fe('57501-65535', ['client'], { transport: 'both' }), fe('49152-65535', ['client'])],
  },
  {
    products: ONPREM,
    note: 'microsoft-ports.md',
    quote:
      '**Clients** (S15, same rows as the seed): 67/68 DHCP; 443 TCP for SIP/TLS, PSOM/TLS and STUN/MSTURN; 3478 UDP; 5061 MTLS; 6891–6901 TCP',
    rows: [
      row('client', 'outbound', '67/68', 'udp', ['front-end'], { protocol: 'dhcp' }),
      row('client', 'outbound', '443', 'tcp', ['edge-external'], { protocol: 'sip-tls' }),
      row('client', 'outbound', '443', 'tcp', ['edge-external'], { protocol: 'psom-tls' }),
      row('client', 'outbound', '443', 'tcp', ['edge-external'], { protocol: 'stun-msturn' }),
      row('client', 'outbound', '3478', 'udp', ['edge-external']),
      row('client', 'outbound', '5061', 'tcp', ['edge-external'], { protocol: 'sip-mtls' }),
      row('client', 'inbound', '6891-6901', 'tcp', ['client']),
    ],
  },
  {
    products: ONPREM,
    note: 'microsoft-ports.md',
    quote:
      '1024–65535 TCP/UDP for audio and video (at least 20 ports); 1024–65535 TCP for peer-to-peer file transfer and application sharing',
    rows: [
      row('client', 'inbound', '1024-65535', 'both', ['client', 'edge-external', 'edge-internal'], {
        id: 'client-audio-media',
      }),
      row('client', 'inbound', '1024-65535', 'both', ['client', 'edge-external'], {
        id: 'client-video-media',
      }),
      row('client', 'inbound', '1024-65535', 'tcp', ['client'], { id: 'client-file-transfer-media' }),
      row('client', 'inbound', '1024-65535', 'tcp', ['client'], { id: 'client-app-sharing-media' }),
    ],
  },
  {
    products: ONPREM,
    note: 'microsoft-ports.md',
    quote: '443 TCP: SIP/TLS in, PSOM/TLS in, STUN/MSTURN in and out.',
    rows: [
      row('edge-external', 'inbound', '443', 'tcp', ['any'], { protocol: 'sip-tls' }),
      row('edge-external', 'inbound', '443', 'tcp', ['any'], { protocol: 'psom-tls' }),
      row('edge-external', 'inbound', '443', 'tcp', ['any'], { protocol: 'stun-msturn' }),
      row('edge-external', 'outbound', '443', 'tcp', ['any'], { protocol: 'stun-msturn' }),
    ],
  },
  {
    products: ONPREM,
    note: 'microsoft-ports.md',
    quote: '5061 TCP: SIP/MTLS in and out (federation).',
    rows: [
      row('edge-external', 'inbound', '5061', 'tcp', ['federated-partner']),
      row('edge-external', 'outbound', '5061', 'tcp', ['federated-partner']),
    ],
  },
  {
    products: ONPREM,
    note: 'microsoft-ports.md',
    quote: '3478 UDP: STUN/MSTURN in and out.',
    rows: [
      row('edge-external', 'inbound', '3478', 'udp', ['any']),
      row('edge-external', 'outbound', '3478', 'udp', ['any']),
    ],
  },
  {
    products: ONPREM,
    note: 'microsoft-ports.md',
    quote: '80 out (CRL checks), 53 out (DNS).',
    rows: [
      row('edge-external', 'outbound', '80', 'tcp', ['crl-distribution-point']),
      row('edge-external', 'outbound', '53', 'both', ['dns-server']),
    ],
  },
  {
    products: ['lync2010'],
    note: 'microsoft-ports.md',
    quote:
      '50000–59999: RTP/TCP in and out (for OCS 2007 R2 interop); RTP/UDP out only (in only for federation with OCS 2007).',
    rows: [
      row('edge-external', 'inbound', '50000-59999', 'tcp', ['federated-partner']),
      row('edge-external', 'outbound', '50000-59999', 'tcp', ['federated-partner']),
      row('edge-external', 'outbound', '50000-59999', 'udp', ['federated-partner']),
      row('edge-external', 'inbound', '50000-59999', 'udp', ['federated-partner'], { optional: true }),
    ],
  },
  {
    products: ONPREM,
    note: 'microsoft-ports.md',
    quote:
      '**Internal**: 5061 SIP/MTLS in and out; 5062 SIP/MTLS from the Front End (A/V authentication, MRAS); 8057 PSOM/MTLS; 443 TCP and 3478 UDP STUN/MSTURN; 4443 HTTPS replication from the CMS',
    rows: [
      row('edge-internal', 'inbound', '5061', 'tcp', ['front-end', 'director']),
      row('edge-internal', 'outbound', '5061', 'tcp', ['front-end', 'director']),
      row('edge-internal', 'inbound', '5062', 'tcp', ['front-end']),
      row('edge-internal', 'inbound', '8057', 'tcp', ['front-end'], { protocol: 'psom-mtls' }),
      row('edge-internal', 'inbound', '443', 'tcp', ['client', 'internal-servers']),
      row('edge-internal', 'inbound', '3478', 'udp', ['client', 'internal-servers']),
      row('edge-internal', 'inbound', '4443', 'tcp', ['cms']),
    ],
  },
  {
    products: ONPREM,
    note: 'microsoft-ports.md',
    quote: '**Reverse proxy**: 443/80 outside, 4443/8080 inside to the pool or Director (8080 optional).',
    rows: [
      row('reverse-proxy', 'inbound', '443', 'tcp', ['any']),
      row('reverse-proxy', 'inbound', '80', 'tcp', ['any']),
      row('reverse-proxy', 'outbound', '4443', 'tcp', ['front-end', 'director']),
      row('reverse-proxy', 'outbound', '8080', 'tcp', ['front-end', 'director']),
    ],
  },
  {
    products: ONPREM,
    note: 'microsoft-ports.md',
    quote: '**Director**: 5061, 444, 80/443, 4443/8080 (L13 page jj204648).',
    rows: [
      row('director', 'inbound', '444', 'tcp', ['internal-servers']),
      row('director', 'inbound', '80', 'tcp', ['client']),
      row('director', 'inbound', '443', 'tcp', ['client']),
      row('director', 'inbound', '4443', 'tcp', ['reverse-proxy']),
      row('director', 'inbound', '8080', 'tcp', ['reverse-proxy']),
    ],
  },
  {
    products: ['lync2010'],
    note: 'microsoft-ports.md',
    quote: '**Archiving/Monitoring**: MSMQ (TCP 1801 per the MS-MQQB example).',
    rows: [
      row('archiving-monitoring', 'inbound', '1801', 'tcp', ['front-end', 'mediation'], { protocol: 'msmq' }),
    ],
  },
  {
    products: ONPREM,
    note: 'microsoft-ports.md',
    quote: '**Group Chat**: SIP/MTLS 5041',
    rows: [row('persistent-chat', 'inbound', '5041', 'tcp', ['front-end'], { protocol: 'sip-mtls' })],
  },
  // microsoft-ports.md §2 and later-products.md §3.3: OCS 2007 R2.
  {
    products: ['ocs2007r2'],
    note: 'microsoft-ports.md',
    quote:
      '| OCS 2007 R2 | FE 5060/5061, 443, 444, 80, 135, 5062–5065, **5069** (QoE agent), 5071–5073, **5074** (Outside Voice Control), 8057, 8404',
    rows: [
      fe('5060', ['client', 'internal-servers']),
      fe('5061', ['client', 'internal-servers']),
      fe('443', ['client']),
      fe('444', ['internal-servers']),
      fe('80', ['client']),
      fe('135', ['internal-servers']),
      ...['5062', '5063', '5064', '5065', '5069', '5071', '5072', '5073', '5074', '8404'].map((p) =>
        fe(p, ['front-end']),
      ),
      fe('8057', ['client']),
    ],
  },
  {
    products: ['ocs2007r2'],
    note: 'microsoft-ports.md',
    quote: 'A/V media 49152–65535 UDP; clients 1024–65535 + 6891–6901; Edge 50000–59999 both ways',
    rows: [
      fe('49152-65535', ['client', 'edge-internal'], { transport: 'udp' }),
      row('client', 'inbound', '1024-65535', 'both', ['client']),
      row('client', 'inbound', '6891-6901', 'tcp', ['client']),
      row('edge-external', 'outbound', '50000-59999', 'tcp', ['federated-partner'], { optional: undefined }),
      row('edge-external', 'inbound', '50000-59999', 'tcp', ['federated-partner'], { optional: true }),
      row('edge-external', 'outbound', '50000-59999', 'udp', ['federated-partner'], { optional: true }),
      row('edge-external', 'inbound', '50000-59999', 'udp', ['federated-partner'], { optional: true }),
    ],
  },
  // microsoft-ports.md §2 and later-products.md §3.1: Lync Server 2013 (kept by Skype for Business).
  {
    products: LATER,
    note: 'microsoft-ports.md',
    quote:
      'New: **1434/UDP** SQL Browser on all servers; **8060/8061** MTLS; **4443** on the FE table (reverse proxy, autodiscover between pools); **5086/5087** MTLS (Mobility)',
    rows: [
      row('internal-servers', 'inbound', '1434', 'udp', ['internal-servers'], { protocol: 'sql-browser' }),
      fe('8060', ['front-end'], { protocol: 'mtls' }),
      fe('8061', ['front-end'], { protocol: 'mtls' }),
      fe('4443', ['reverse-proxy', 'front-end']),
      fe('5086', ['front-end'], { protocol: 'sip-mtls' }),
      fe('5087', ['front-end'], { protocol: 'sip-mtls' }),
    ],
  },
  {
    products: LATER,
    note: 'microsoft-ports.md',
    quote: 'Persistent Chat **5041**, **881**, 443',
    rows: [
      row('persistent-chat', 'inbound', '5041', 'tcp', ['front-end']),
      row('persistent-chat', 'inbound', '881', 'tcp', ['persistent-chat']),
      row('persistent-chat', 'inbound', '443', 'tcp', ['client']),
    ],
  },
  {
    products: ['lync2013', 'sfb2015'],
    note: 'microsoft-ports.md',
    quote: 'XMPP **5269** (external) and **23456** (internal)',
    rows: [
      row('edge-external', 'inbound', '5269', 'tcp', ['xmpp-partner'], { protocol: 'xmpp' }),
      row('edge-external', 'outbound', '5269', 'tcp', ['xmpp-partner'], { protocol: 'xmpp' }),
      row('edge-internal', 'inbound', '23456', 'tcp', ['front-end'], { protocol: 'xmpp-mtls' }),
    ],
  },
  {
    products: LATER,
    note: 'microsoft-ports.md',
    quote: 'CLS **50001–50003** on the Edge internal side',
    rows: [row('edge-internal', 'inbound', '50001-50003', 'tcp', ['internal-servers'])],
  },
  {
    products: LATER,
    note: 'later-products.md',
    quote: '| Reverse proxy ext. | 80 | TCP | HTTP | in (any → RP) | optional redirect to HTTPS',
    rows: [row('reverse-proxy', 'inbound', '80', 'tcp', ['any'], { optional: true })],
  },
  {
    products: LATER,
    note: 'later-products.md',
    quote: '| Reverse proxy int. | 443 | TCP | HTTPS | RP → Office Web Apps Server | (L13-RP) |',
    rows: [row('reverse-proxy', 'outbound', '443', 'tcp', ['office-web-apps'])],
  },
  {
    products: LATER,
    note: 'later-products.md',
    quote: '| Reverse proxy int. | 8080 | TCP | HTTP | RP → FE/pool/Director |',
    rows: [row('reverse-proxy', 'outbound', '8080', 'tcp', ['front-end', 'director'], { optional: true })],
  },
  {
    products: LATER,
    note: 'later-products.md',
    quote:
      '| Front End | 8080 | TCP | HTTP | in | "used by web components for external access"; on HLB: "client and device retrieval of root certificate',
    rows: [fe('8080', ['reverse-proxy', 'client', 'phone'])],
  },
  {
    products: LATER,
    note: 'later-products.md',
    quote: '| Office Web Apps Server | 443 | TCP | HTTPS | Lync → OWAS |',
    rows: [row('office-web-apps', 'inbound', '443', 'tcp', ['front-end', 'reverse-proxy'])],
  },
  {
    products: LATER,
    note: 'later-products.md',
    quote: '| Director | 444 | TCP | HTTPS | FE ↔ Director |',
    rows: [row('director', 'inbound', '444', 'tcp', ['front-end'])],
  },
  {
    products: ['lync2013'],
    note: 'later-products.md',
    quote:
      '| A/V Edge ext. | 50000–59999 | TCP | RTP | **out only** | "required for federating with OCS 2007, OCS 2007 R2, Lync 2010 and Lync 2013" (L13-EDGE) |',
    rows: [
      row('edge-external', 'outbound', '50000-59999', 'tcp', ['federated-partner'], { optional: undefined }),
    ],
  },
  {
    products: ['lync2013'],
    note: 'later-products.md',
    quote:
      '| A/V Edge ext. | 50000–59999 | UDP out; TCP+UDP in | RTP | | "required only for federation with partners running OCS 2007" (L13-EDGE) |',
    rows: [
      row('edge-external', 'outbound', '50000-59999', 'udp', ['federated-partner'], { optional: true }),
      row('edge-external', 'inbound', '50000-59999', 'tcp', ['federated-partner'], { optional: true }),
      row('edge-external', 'inbound', '50000-59999', 'udp', ['federated-partner'], { optional: true }),
    ],
  },
  {
    products: [...ONPREM, 'ocs2007r2'],
    note: 'later-products.md',
    quote: '| A/V Edge ext. | 3478 | UDP | STUN/MSTURN | out | determines remote Edge version',
    rows: [row('edge-external', 'outbound', '3478', 'udp', ['any'])],
  },
  {
    products: ONPREM,
    note: 'later-products.md',
    quote: '| A/V Edge ext. (Edge↔Edge) | **src** 50000–59999 → dst 443 | TCP | STUN/MSTURN, RTP | out |',
    // Destination-port rules: the Edge's outbound TCP 443 to any address (the source ports are the 50000-59999 range).
    rows: [row('edge-external', 'outbound', '443', 'tcp', ['any'], { protocol: 'stun-msturn' })],
  },
  {
    products: ONPREM,
    note: 'later-products.md',
    quote: '| A/V Edge ext. (Edge↔Edge) | **src 3478 → dst 3478** | UDP | STUN/MSTURN | both | (L13-AV) |',
    rows: [
      row('edge-external', 'outbound', '3478', 'udp', ['any']),
      row('edge-external', 'inbound', '3478', 'udp', ['any']),
    ],
  },
  {
    products: ['lync2013'],
    note: 'later-products.md',
    quote: '| A/V Edge ext. (PIC) | 50000–59999 | TCP | RTP | out → Live Messenger clients |',
    rows: [row('edge-external', 'outbound', '50000-59999', 'tcp', ['pic-partner'], { optional: true })],
  },
  {
    products: LATER,
    note: 'later-products.md',
    quote:
      '| A/V Edge ext. (PIC) | 3478 | UDP | STUN/MSTURN | both with Live Messenger clients | (L13-EDGE) |',
    rows: [
      row('edge-external', 'outbound', '3478', 'udp', ['any']),
      row('edge-external', 'inbound', '3478', 'udp', ['any']),
    ],
  },
  {
    products: LATER,
    note: 'later-products.md',
    quote: '| Access Edge ext. (PIC) | 5061 | TCP | SIP/MTLS | both with PIC partners | (L13-EDGE) |',
    rows: [
      row('edge-external', 'inbound', '5061', 'tcp', ['federated-partner', 'pic-partner']),
      row('edge-external', 'outbound', '5061', 'tcp', ['federated-partner', 'pic-partner']),
    ],
  },
  {
    products: LATER,
    note: 'later-products.md',
    quote:
      '| HLB FE pool | 5061, 444, 135, 80, 8080, 443, 4443, 5072, 5073, 5075, 5076, 5071, 5080, 448 | TCP | | in |',
    rows: [
      ...[
        '5061',
        '444',
        '135',
        '80',
        '8080',
        '443',
        '4443',
        '5072',
        '5073',
        '5075',
        '5076',
        '5071',
        '5080',
        '448',
      ].map((p) => fe(p, [])),
      row('mediation', 'inbound', '5070', 'tcp', []),
      ...['443', '444', '5061', '4443'].map((p) => row('director', 'inbound', p, 'tcp', [])),
    ],
  },
  // later-products.md §3.2: Skype for Business Server 2015 / 2019.
  {
    products: SFB,
    note: 'later-products.md',
    quote:
      '| A/V Edge ext. | 50000–59999 | TCP **and UDP** | RTP | **out only** (Edge → any) | single note "used for relaying media traffic"',
    rows: [
      row('edge-external', 'outbound', '50000-59999', 'tcp', ['any'], { optional: undefined }),
      row('edge-external', 'outbound', '50000-59999', 'udp', ['any'], { optional: false }),
    ],
  },
  {
    products: ['sfb2015'],
    note: 'later-products.md',
    quote:
      '| Access Edge ext. | 5269 | TCP | XMPP | both | "Not supported in Skype for Business Server 2019" (S15-EDGE) |',
    rows: [
      row('edge-external', 'inbound', '5269', 'tcp', ['xmpp-partner']),
      row('edge-external', 'outbound', '5269', 'tcp', ['xmpp-partner']),
    ],
  },
  {
    products: ['sfb2015'],
    note: 'later-products.md',
    quote:
      '| Edge int. | 23456 | TCP | XMPP/MTLS | FE → Edge | available in 2015, **not supported in 2019** (S15-EDGE) |',
    rows: [row('edge-internal', 'inbound', '23456', 'tcp', ['front-end'])],
  },
  {
    products: SFB,
    note: 'later-products.md',
    quote: '| Edge int. VIP (HLB) | 5061, 5062, 3478/UDP, 443/TCP |',
    rows: [
      row('edge-internal', 'inbound', '5061', 'tcp', ['front-end']),
      row('edge-internal', 'inbound', '5062', 'tcp', ['front-end', 'survivable-branch']),
      row('edge-internal', 'inbound', '3478', 'udp', ['survivable-branch']),
      row('edge-internal', 'inbound', '443', 'tcp', ['survivable-branch']),
    ],
  },
  {
    products: SFB,
    note: 'later-products.md',
    quote:
      '| Clients | 67/68 | UDP | DHCP | client → server | devices named: Aastra 6721ip/6725ip, HP 4110/4120, Polycom CX500/CX600/CX700/CX3000',
    rows: [
      row('client', 'outbound', '67/68', 'udp', ['front-end'], { protocol: 'dhcp' }),
      row('phone', 'outbound', '67/68', 'udp', ['front-end'], { protocol: 'dhcp' }),
    ],
  },
  {
    products: SFB,
    note: 'microsoft-ports.md',
    quote: '444 also carries TCP from a Survivable Branch Appliance (S15)',
    rows: [fe('444', ['internal-servers', 'survivable-branch'])],
  },
  // later-products.md §3.4 and microsoft-ports.md §2: Microsoft Teams.
  {
    products: ['teams'],
    note: 'later-products.md',
    quote: '| Teams/SfBO media relays (M365 ID 11, Optimize) | 3478–3481 | UDP | STUN/TURN/SRTP | out |',
    rows: [row('client', 'outbound', '3478-3481', 'udp', ['m365-media-relay'])],
  },
  {
    products: ['teams'],
    note: 'later-products.md',
    quote: '| Signalling (ID 12, Allow) | 443, 80 | TCP | HTTPS | out |',
    rows: [
      row('client', 'outbound', '443', 'tcp', ['m365-teams'], { id: 'client-443-teams' }),
      row('client', 'outbound', '80', 'tcp', ['m365-teams']),
    ],
  },
  {
    products: ['teams'],
    note: 'later-products.md',
    quote: '| Broadcast (ID 13) | 443 | TCP | HTTPS | out | *.broadcast.skype.com (M365-23) |',
    rows: [row('client', 'outbound', '443', 'tcp', ['m365-teams'], { id: 'client-443-broadcast' })],
  },
  {
    products: ['teams'],
    note: 'later-products.md',
    quote: '| SfB interop (ID 22, optional) | 443 | TCP | HTTPS | out | *.skypeforbusiness.com (M365-23) |',
    rows: [
      row('client', 'outbound', '443', 'tcp', ['m365-teams'], {
        id: 'client-443-sfb-interop',
        optional: true,
      }),
    ],
  },
  {
    products: ['teams'],
    note: 'later-products.md',
    quote: '| Direct Routing SBC → SIP proxy | 5061 | TCP | SIP/TLS | out |',
    rows: [row('sbc', 'outbound', '5061', 'tcp', ['dr-sip-proxy'], { protocol: 'sip-tls' })],
  },
  {
    products: ['teams'],
    note: 'later-products.md',
    quote:
      '| Direct Routing SIP proxy → SBC | src 1024–65535 → SBC-defined port | TCP | SIP/TLS | in | GCC High/DoD: SBC must use 5061',
    rows: [row('sbc', 'inbound', '5061', 'tcp', ['dr-sip-proxy'], { protocol: 'sip-tls' })],
  },
  {
    products: ['teams'],
    note: 'later-products.md',
    quote:
      '| DR media (no bypass) | Media Processor side **3478–3481 and 49152–53247** | UDP | SRTP | both |',
    rows: [
      row('sbc', 'outbound', '3478-3481,49152-53247', 'udp', ['dr-media-processor']),
      row('sbc', 'inbound', '1024-65535', 'udp', ['dr-media-processor']),
    ],
  },
  {
    products: ['teams'],
    note: 'later-products.md',
    quote:
      '| DR media bypass: client ↔ SBC | client **50000–50019** | UDP | SRTP | both | client → public SBC address (DR-MB) |',
    rows: [
      row('client', 'inbound', '50000-50019', 'both', ['sbc']),
      row('sbc', 'inbound', '1024-65535', 'udp', ['client']),
    ],
  },
  {
    products: ['teams'],
    note: 'later-products.md',
    quote: '| DR bypass via Transport Relay | relay 50000–59999 (v4); 3478, 3479 (v6) | UDP | SRTP | both |',
    rows: [
      row('sbc', 'outbound', '50000-59999,3478,3479', 'udp', ['m365-media-relay']),
      row('sbc', 'inbound', '1024-65535', 'udp', ['m365-media-relay']),
    ],
  },
  {
    products: ['teams'],
    note: 'later-products.md',
    quote: '| Teams (2018 call-flow page) | 80, 443 TCP; 3478–3481 UDP | | | out |',
    rows: [
      row('client', 'outbound', '80', 'tcp', ['m365-teams']),
      row('client', 'outbound', '443', 'tcp', ['m365-teams']),
      row('client', 'outbound', '3478-3481', 'udp', ['m365-media-relay']),
    ],
  },
  {
    products: ['teams'],
    note: 'microsoft-ports.md',
    quote:
      'Recommended client QoS ranges: **50000–50019** audio (DSCP 46), **50020–50039** video (34), **50040–50059** sharing (18)',
    rows: [
      row('client', 'inbound', '50000-50019', 'both', ['client', 'm365-media-relay'], {
        id: 'client-audio-media',
      }),
      row('client', 'inbound', '50020-50039', 'both', ['client', 'm365-media-relay'], {
        id: 'client-video-media',
      }),
      row('client', 'inbound', '50040-50059', 'both', ['client', 'm365-media-relay'], {
        id: 'client-app-sharing-media',
      }),
    ],
  },
];

const catalogs = new Map<string, Catalog>(listProducts().map((p) => [p, loadCatalog(p)]));

function fits(c: Catalog, r: CatalogRow, e: Expect): boolean {
  if (e.id !== undefined && r.id !== e.id) return false;
  if (!coversAny(c, r.roles, [e.role])) return false;
  if (r.direction !== e.direction || r.ports !== e.ports || r.transport !== e.transport) return false;
  if (e.protocol !== undefined && r.protocol !== e.protocol) return false;
  if ('optional' in e && (r.optional === true) !== (e.optional === true)) return false;
  if (r.peers.includes('any'))
    return e.peers.every((p) => p === 'any' || c.roles[p] !== undefined || c.groups[p] !== undefined);
  return e.peers.every((p) => p !== 'any' && coversAny(c, r.peers, [p]));
}

function describeExpect(e: Expect): string {
  return `${e.id ?? e.role} ${e.direction} ${e.transport} ${e.ports} peers ${e.peers.join('+') || '-'}${e.protocol ? ` ${e.protocol}` : ''}`;
}

describe('each row the research notes name is in its products', () => {
  const cases = FACTS.flatMap((f) => f.products.map((p) => [p, f.quote, f] as [string, string, Fact]));
  it.each(cases)('%s: %s', (product, _quote, fact) => {
    const c = catalogs.get(product)!;
    const missing = fact.rows.filter((e) => !c.rows.some((r) => fits(c, r, e))).map(describeExpect);
    expect(missing, `${product} has no row for`).toEqual([]);
  });

  const notes = new Map<Note, string | undefined>(
    (['microsoft-ports.md', 'later-products.md'] as const).map((n) => {
      const path = join(SHARED_DIR, 'research', n);
      return [n, existsSync(path) ? readFileSync(path, 'utf8') : undefined];
    }),
  );
  it('quotes the notes word for word', (ctx) => {
    if ([...notes.values()].some((t) => t === undefined)) {
      console.warn(`catalog facts: quote check skipped, ${join(SHARED_DIR, 'research')} is absent`);
      ctx.skip();
    }
    for (const f of FACTS) expect(notes.get(f.note), f.quote).toContain(f.quote);
  });
});

const byId = (product: string, id: string): CatalogRow | undefined =>
  catalogs.get(product)!.rows.find((r) => r.id === id);
const hasPort = (product: string, port: number): boolean =>
  catalogs.get(product)!.rows.some((r) => r.portRanges.some(([lo, hi]) => lo === port && hi === port));

describe('the differences between versions hold', () => {
  it('every product is built in, and each extends the one before it', () => {
    expect(listProducts()).toEqual([
      'lync2010',
      'lync2013',
      'ocs2007r2',
      'sfb2015',
      'sfb2019',
      'teams',
      'teams-2022072800',
    ]);
    expect(catalogs.get('lync2013')!.extends).toBe('lync2010');
    expect(catalogs.get('sfb2015')!.extends).toBe('lync2013');
    expect(catalogs.get('sfb2019')!.extends).toBe('sfb2015');
    expect(catalogs.get('ocs2007r2')!.extends).toBe('lync2010');
    expect(catalogs.get('teams-2022072800')!.extends).toBe('teams');
    expect(catalogs.get('sfb2019')!.title).toContain('Subscription Edition');
  });

  it('sfb2019 has no XMPP rows; sfb2015 and lync2013 have them; lync2010 never had them', () => {
    const xmpp = (p: string): string[] =>
      catalogs
        .get(p)!
        .rows.filter((r) => r.protocol.startsWith('xmpp') || hasPortIn(r, [5269, 23456]))
        .map((r) => r.id);
    const hasPortIn = (r: CatalogRow, ports: number[]): boolean =>
      r.portRanges.some(([lo]) => ports.includes(lo));
    expect(xmpp('sfb2019')).toEqual([]);
    expect(xmpp('sfb2015').sort()).toEqual([
      'edge-ext-5269-xmpp-in',
      'edge-ext-5269-xmpp-out',
      'edge-int-23456-xmpp',
    ]);
    expect(xmpp('lync2013')).toHaveLength(3);
    expect(xmpp('lync2010')).toEqual([]);
    const why = catalogs.get('sfb2019')!.removed.filter((r) => r.product === 'sfb2019');
    expect(why.map((r) => r.id).sort()).toEqual([
      'edge-ext-5269-xmpp-in',
      'edge-ext-5269-xmpp-out',
      'edge-int-23456-xmpp',
    ]);
    for (const r of why)
      expect(r.summary).toMatch(/(not|no longer) supported in Skype for Business Server 2019/);
  });

  it('lync2013 adds 1434, 5086/5087, 8060/8061, 881 and 50001-50003; lync2010 has none of them', () => {
    for (const port of [1434, 5086, 5087, 8060, 8061, 881]) {
      expect(hasPort('lync2013', port), `lync2013 ${port}`).toBe(true);
      expect(hasPort('lync2010', port), `lync2010 ${port}`).toBe(false);
    }
    expect(byId('lync2013', 'edge-int-50001-50003-cls')?.portRanges).toEqual([[50001, 50003]]);
    expect(byId('lync2010', 'edge-int-50001-50003-cls')).toBeUndefined();
  });

  it('Skype for Business drops the inbound 50000-59999 Edge rows and the Live Messenger rows that Lync 2013 still has', () => {
    const inbound = (p: string): string[] =>
      catalogs
        .get(p)!
        .rows.filter(
          (r) => r.roles.includes('edge-external') && r.direction === 'inbound' && r.ports === '50000-59999',
        )
        .map((r) => r.id);
    expect(inbound('lync2013').sort()).toEqual([
      'edge-ext-av-media-tcp-in',
      'edge-ext-av-media-udp-in-ocs2007',
    ]);
    expect(inbound('sfb2015')).toEqual([]);
    expect(inbound('sfb2019')).toEqual([]);
    expect(byId('lync2013', 'edge-ext-av-media-tcp-out-pic')).toBeDefined();
    expect(byId('sfb2015', 'edge-ext-av-media-tcp-out-pic')).toBeUndefined();
    // And the outbound UDP range is for relaying media, no longer for OCS 2007 partners only.
    expect(byId('lync2013', 'edge-ext-av-media-udp-out')?.optional).toBe(true);
    expect(byId('sfb2015', 'edge-ext-av-media-udp-out')).toMatchObject({ optional: false, peers: ['any'] });
  });

  it('Lync 2013 has no Message Queuing server: Archiving and Monitoring run on the Front End', () => {
    expect(byId('lync2010', 'archiving-1801-msmq')).toBeDefined();
    expect(byId('lync2013', 'archiving-1801-msmq')).toBeUndefined();
    const removal = catalogs.get('lync2013')!.removed.find((r) => r.id === 'archiving-1801-msmq')!;
    expect(removal.disagreement?.texts.map((t) => t.source.ref)).toEqual(['L13-ARCH', 'L13-DIT']);
  });

  it('OCS 2007 R2: 5060 serves Office Communicator; 5069 and 5074 exist; the Lync 2010 additions do not', () => {
    expect(byId('ocs2007r2', 'fe-5060-sip-static-routes')?.peers).toContain('client');
    expect(byId('lync2010', 'fe-5060-sip-static-routes')?.peers).toEqual(['trusted-application']);
    for (const port of [5069, 5074]) {
      expect(hasPort('ocs2007r2', port)).toBe(true);
      expect(hasPort('lync2010', port)).toBe(false);
    }
    for (const port of [8058, 5066, 5075, 5076, 5080, 448, 445])
      expect(
        catalogs
          .get('ocs2007r2')!
          .rows.some((r) => r.roles.includes('front-end') && r.ports === String(port)),
        `ocs2007r2 front-end ${port}`,
      ).toBe(false);
    // Sources that disagree keep both texts: 5074 is TLS on TechNet and TCP on ocspedia.
    const d = byId('ocs2007r2', 'fe-5074-outside-voice-control')!.disagreement!;
    expect(d.texts.map((t) => t.source.ref)).toEqual(['OCS-R2', 'ocspedia']);
    expect(d.chosen).toMatch(/TLS/);
    expect(d.why).toMatch(/third-party copy/);
  });

  it('Lync 2013 and later: Survivable Branch Appliances are peers of 444 and of the Edge', () => {
    expect(byId('lync2010', 'fe-444-focus-https')?.peers).toEqual(['internal-servers']);
    for (const p of LATER) {
      expect(byId(p, 'fe-444-focus-https')?.peers, p).toContain('survivable-branch');
      expect(byId(p, 'edge-int-5062-av-auth')?.peers, p).toContain('survivable-branch');
      expect(byId(p, 'fe-444-focus-https')?.changes?.[0]).toMatchObject({ product: 'lync2013' });
    }
  });

  it('teams: UDP 3478-3481 to the media relays, the endpoints version it uses, and the older list', () => {
    const t = catalogs.get('teams')!;
    expect(byId('teams', 'client-3478-3481-media-relay')).toMatchObject({
      transport: 'udp',
      portRanges: [[3478, 3481]],
      peers: ['m365-media-relay'],
    });
    expect(t.endpoints).toMatchObject({ version: '2023073100', source: { ref: 'M365-23' } });
    expect(t.roleAddresses['m365-media-relay']).toMatchObject({
      endpointsId: 11,
      addresses: ['13.107.64.0/18', '52.112.0.0/14', '52.122.0.0/15', '2603:1063::/39'],
    });
    const old = catalogs.get('teams-2022072800')!;
    expect(old.endpoints?.version).toBe('2022072800');
    expect(old.roleAddresses['m365-media-relay'].addresses).toEqual([
      '13.107.64.0/18',
      '52.112.0.0/14',
      '52.120.0.0/14',
      '2603:1063::/38',
    ]);
    expect(old.rows).toEqual(t.rows);
    // Direct Routing's media processors: DR and DR-MB disagree on the ranges; both texts are kept.
    expect(t.roleAddresses['dr-media-processor'].disagreement?.texts.map((x) => x.source.ref)).toEqual([
      'DR',
      'DR-MB',
    ]);
    expect(byId('teams', 'sbc-media-to-media-processor')?.disagreement?.chosen).toMatch(/3478-3481/);
  });
});

describe('every row of every product cites its source and names its peers', () => {
  it.each([...catalogs.keys()])('%s', (product) => {
    const c = catalogs.get(product)!;
    for (const r of c.rows) {
      expect(r.peers.length, r.id).toBeGreaterThan(0);
      expect(r.source.title, r.id).toBeTruthy();
      if (r.source.ref !== 'research')
        expect(r.source.url, `${r.id} ${r.source.ref}`).toMatch(/^https?:\/\//);
      // Where the peers were chosen from a call flow (not the row's own table), the notes say the table named none.
      if (r.peersSource !== undefined)
        expect(r.notes, r.id).toMatch(/names no peer|name no peer|'Any'|gives no note/);
      for (const d of [r.disagreement].filter((x) => x !== undefined)) {
        expect(d.texts.length, r.id).toBeGreaterThanOrEqual(2);
        expect(d.chosen.length * d.why.length, r.id).toBeGreaterThan(0);
      }
    }
  });
});
