#!/usr/bin/env bash
# The lab: real peers behind a real firewall, captured on both sides of it.
#
#   sudo test/lab/run.sh [--out DIR] [--jobs N] [--store] [--keep] <scenario...|all>
#
# For each scenario (test/lab/scenarios/<name>/) this script, as root:
#   1. creates its own network namespaces, named lpa-<pid>-<n>-<role>, joined by veth pairs:
#        client (10.77.1.10 client, 10.77.1.200 PSTN gateway, fd77:1::10)
#          └─ router (nftables: the scenario's rules.nft is the ground truth)
#               └─ bridge br0 ─ front-end 10.77.2.10 fd77:2::10, edge-internal 10.77.2.20,
#                               mediation 10.77.2.30, edge-external 10.77.3.20 (DMZ subnet)
#      Every address lives only inside these namespaces; the host's interfaces and routes are not
#      touched. MAC addresses and neighbour entries are fixed, so no ARP or ND runs.
#   2. starts real peers from Debian packages in the server namespaces: openssl s_server (TLS on
#      5061, 443, 444, 8057, 5067), sipp UAS (SIP over TCP and UDP with RTP echo), coturn
#      (STUN/TURN on 3478 and 443), socat (plain TCP listeners), a DHCPINFORM responder (node);
#   3. captures on both sides of the router with tcpdump: client.pcap (router's client-facing
#      interface) and server.pcap (the server bridge), converted to pcapng with editcap;
#   4. runs the scenario's steps (expected.json "steps") from the client namespace, in order;
#   5. tears everything down, also on failure or interrupt (trap EXIT: kill the processes in its
#      namespaces by pid, delete the namespaces, remove its work directory).
#
# Output: DIR/<scenario>/{client,server}.{pcap,pcapng}, steps.tsv (step, exit status, seconds) and
# lab.log. --store also copies the pcapng files to test/lab/captures/<scenario>/ and refreshes the
# samples named in test/lab/samples.txt. Exit status: 0 when every scenario ran (whatever its
# flows did: the tests judge the captures), 1 when a scenario could not be set up, 2 for usage.
set -euo pipefail

LAB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$LAB/../.." && pwd)
PEERS=$LAB/peers

usage() {
  sed -n '3,4p' "$0" | sed 's/^# \{0,1\}//' >&2
  echo "scenarios: $(cd "$LAB/scenarios" && echo *)" >&2
  exit 2
}

OUT=""
JOBS=4
STORE=0
KEEP=0
SCENARIOS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --store) STORE=1; shift ;;
    --keep) KEEP=1; shift ;;
    -h | --help) usage ;;
    all) for d in "$LAB"/scenarios/*/; do SCENARIOS+=("$(basename "$d")"); done; shift ;;
    -*) echo "run.sh: unknown option $1" >&2; usage ;;
    *) SCENARIOS+=("$1"); shift ;;
  esac
done
[ ${#SCENARIOS[@]} -gt 0 ] || usage
for s in "${SCENARIOS[@]}"; do
  [ -f "$LAB/scenarios/$s/rules.nft" ] && [ -f "$LAB/scenarios/$s/expected.json" ] ||
    { echo "run.sh: no scenario $s (need scenarios/$s/rules.nft and expected.json)" >&2; exit 2; }
done

# What the lab needs, and why it cannot run: printed, and exit status 3, so callers can fall back.
preflight() {
  local missing=()
  [ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces, nftables, tcpdump)" >&2; exit 3; }
  for tool in ip nft tcpdump editcap openssl sipp turnserver socat node ss timeout; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "run.sh: missing ${missing[*]} (apt-get install iproute2 nftables tcpdump tshark openssl sip-tester coturn socat)" >&2
    exit 3
  fi
  local probe="lpa-$$-probe"
  if ! ip netns add "$probe" 2>/dev/null; then
    echo "run.sh: cannot create network namespaces here (ip netns add failed)" >&2
    exit 3
  fi
  if ! ip netns exec "$probe" nft 'add table inet probe' 2>/dev/null; then
    ip netns del "$probe"
    echo "run.sh: nftables does not work inside a network namespace here" >&2
    exit 3
  fi
  ip netns del "$probe"
}
preflight

[ -n "$OUT" ] || OUT=$(mktemp -d /tmp/lpa-lab.XXXXXX)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# ---------------------------------------------------------------------------------------------
# Addresses (keep in step with addresses.nft and topology.json)
C4=10.77.1.10
C6=fd77:1::10
GW4=10.77.1.200
FE4=10.77.2.10
FE6=fd77:2::10
EI4=10.77.2.20
MED4=10.77.2.30
EE4=10.77.3.20

MAC_CLIENT=02:77:01:00:00:10
MAC_R_CLIENT=02:77:01:00:00:01
MAC_R_BR=02:77:02:00:00:01
MAC_FE=02:77:02:00:00:10
MAC_EI=02:77:02:00:00:20
MAC_MED=02:77:02:00:00:30
MAC_EE=02:77:03:00:00:20

# ---------------------------------------------------------------------------------------------
# One scenario, in a subshell of its own: $1 scenario, $2 index (for unique namespace names).
run_scenario() {
  local scenario=$1 idx=$2
  # Not local: the EXIT trap runs after this function has returned.
  P="lpa-$$-$idx"
  NS_C=$P-client NS_R=$P-router NS_FE=$P-fe NS_EI=$P-edge-int NS_MED=$P-med NS_EE=$P-edge-ext
  ALL_NS=("$NS_C" "$NS_R" "$NS_FE" "$NS_EI" "$NS_MED" "$NS_EE")
  SDIR=$LAB/scenarios/$scenario
  DEST=$OUT/$scenario
  W=$(mktemp -d "/tmp/lpa-lab-$scenario.XXXXXX")
  chmod 755 "$W"
  PIDS=()
  CREATED_NS=()
  rm -rf "$DEST"
  mkdir -p "$DEST"
  LOG=$DEST/lab.log
  : >"$LOG"

  log() { printf '%s %s\n' "$(date +%T.%3N)" "$*" >>"$LOG"; }

  teardown() {
    local rc=$?
    set +e
    log "teardown (exit $rc)"
    local pid ns
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    # Anything else still running inside our own namespaces was started by this script.
    for ns in "${CREATED_NS[@]}"; do
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
    done
    sleep 0.2
    for ns in "${CREATED_NS[@]}"; do
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    for ns in "${CREATED_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
    if [ "$rc" -ne 0 ] || [ "$KEEP" = 1 ]; then
      mkdir -p "$DEST/work" && cp -r "$W"/. "$DEST/work/" 2>/dev/null
    fi
    rm -rf "$W"
    exit "$rc"
  }
  trap teardown EXIT
  trap 'exit 143' TERM INT HUP

  # nx NS CMD...: run a command inside one of our namespaces.
  nx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
  # sysctl inside a namespace, without depending on procps.
  nsctl() { ip netns exec "$1" sh -c "echo $3 > /proc/sys/$(echo "$2" | tr . /)"; }
  # peer NS NAME CMD...: start a long-running peer, log to $W/NAME.log, remember its pid.
  peer() {
    local ns=$1 name=$2; shift 2
    (cd "$W" && exec ip netns exec "$ns" "$@") >"$W/$name.log" 2>&1 &
    PIDS+=($!)
  }
  hostport() { case "$1" in *:*) echo "[$1]:$2" ;; *) echo "$1:$2" ;; esac; }

  # --- namespaces and links ------------------------------------------------------------------
  log "scenario $scenario: namespaces $P-*"
  local ns
  for ns in "${ALL_NS[@]}"; do
    ip netns add "$ns"
    CREATED_NS+=("$ns")
    nx "$ns" ip link set lo up
    # No router solicitations, no duplicate address detection: nothing the lab did not ask for.
    nsctl "$ns" net.ipv6.conf.default.router_solicitations 0
    nsctl "$ns" net.ipv6.conf.all.router_solicitations 0
    nsctl "$ns" net.ipv6.conf.default.accept_dad 0
    nsctl "$ns" net.ipv6.conf.default.accept_ra 0
  done
  nsctl "$NS_R" net.ipv4.ip_forward 1
  nsctl "$NS_R" net.ipv6.conf.all.forwarding 1
  # Every rejected packet gets its ICMP error (the default rate limit would make counts vary).
  nsctl "$NS_R" net.ipv4.icmp_ratelimit 0
  nsctl "$NS_R" net.ipv6.icmp.ratelimit 0
  # Where the host has br_netfilter loaded, frames crossing the server bridge would also pass the
  # router's IP hooks at the bridge, and the NAT would be undone before the server-side capture
  # sees an answer (scenario nat-router): off, so each capture shows the wire as it is.
  if ip netns exec "$NS_R" test -d /proc/sys/net/bridge; then
    nsctl "$NS_R" net.bridge.bridge-nf-call-iptables 0
    nsctl "$NS_R" net.bridge.bridge-nf-call-ip6tables 0
    nsctl "$NS_R" net.bridge.bridge-nf-call-arptables 0
  fi

  ip link add eth0 netns "$NS_C" address "$MAC_CLIENT" type veth peer name c0 netns "$NS_R" address "$MAC_R_CLIENT"
  nx "$NS_R" ip link add br0 address "$MAC_R_BR" type bridge mcast_snooping 0
  local srv mac port
  for srv in "$NS_FE:$MAC_FE:p-fe" "$NS_EI:$MAC_EI:p-edge-int" "$NS_MED:$MAC_MED:p-med" "$NS_EE:$MAC_EE:p-edge-ext"; do
    ns=${srv%%:*}
    mac=${srv#*:}
    port=${mac##*:}
    mac=${mac%:*}
    ip link add eth0 netns "$ns" address "$mac" type veth peer name "$port" netns "$NS_R"
    nx "$NS_R" ip link set "$port" master br0
    nx "$NS_R" ip link set "$port" up
  done

  nx "$NS_C" ip addr add "$C4/24" dev eth0
  nx "$NS_C" ip addr add "$GW4/24" dev eth0
  nx "$NS_C" ip addr add "$C6/64" dev eth0 nodad
  nx "$NS_R" ip addr add 10.77.1.1/24 dev c0
  nx "$NS_R" ip addr add fd77:1::1/64 dev c0 nodad
  nx "$NS_R" ip addr add 10.77.2.1/24 dev br0
  nx "$NS_R" ip addr add 10.77.3.1/24 dev br0
  nx "$NS_R" ip addr add fd77:2::1/64 dev br0 nodad
  nx "$NS_FE" ip addr add "$FE4/24" dev eth0
  nx "$NS_FE" ip addr add "$FE6/64" dev eth0 nodad
  nx "$NS_EI" ip addr add "$EI4/24" dev eth0
  nx "$NS_MED" ip addr add "$MED4/24" dev eth0
  nx "$NS_EE" ip addr add "$EE4/24" dev eth0

  for ns in "${ALL_NS[@]}"; do
    case "$ns" in
      "$NS_R") nx "$ns" ip link set c0 up; nx "$ns" ip link set br0 up ;;
      *) nx "$ns" ip link set eth0 up ;;
    esac
  done
  nx "$NS_C" ip route add default via 10.77.1.1
  nx "$NS_C" ip -6 route add default via fd77:1::1
  for ns in "$NS_FE" "$NS_EI" "$NS_MED"; do nx "$ns" ip route add default via 10.77.2.1; done
  nx "$NS_FE" ip -6 route add default via fd77:2::1
  nx "$NS_EE" ip route add default via 10.77.3.1

  # Fixed neighbours: no ARP or neighbour discovery in the captures, and no first-packet delay.
  nx "$NS_C" ip neigh replace 10.77.1.1 lladdr "$MAC_R_CLIENT" dev eth0 nud permanent
  nx "$NS_C" ip neigh replace fd77:1::1 lladdr "$MAC_R_CLIENT" dev eth0 nud permanent
  nx "$NS_R" ip neigh replace "$C4" lladdr "$MAC_CLIENT" dev c0 nud permanent
  nx "$NS_R" ip neigh replace "$GW4" lladdr "$MAC_CLIENT" dev c0 nud permanent
  nx "$NS_R" ip neigh replace "$C6" lladdr "$MAC_CLIENT" dev c0 nud permanent
  nx "$NS_R" ip neigh replace "$FE4" lladdr "$MAC_FE" dev br0 nud permanent
  nx "$NS_R" ip neigh replace "$FE6" lladdr "$MAC_FE" dev br0 nud permanent
  nx "$NS_R" ip neigh replace "$EI4" lladdr "$MAC_EI" dev br0 nud permanent
  nx "$NS_R" ip neigh replace "$MED4" lladdr "$MAC_MED" dev br0 nud permanent
  nx "$NS_R" ip neigh replace "$EE4" lladdr "$MAC_EE" dev br0 nud permanent
  for ns in "$NS_FE" "$NS_EI" "$NS_MED"; do
    nx "$ns" ip neigh replace 10.77.2.1 lladdr "$MAC_R_BR" dev eth0 nud permanent
  done
  nx "$NS_FE" ip neigh replace fd77:2::1 lladdr "$MAC_R_BR" dev eth0 nud permanent
  nx "$NS_EE" ip neigh replace 10.77.3.1 lladdr "$MAC_R_BR" dev eth0 nud permanent

  # --- the firewall: the scenario's ground truth ----------------------------------------------
  nx "$NS_R" nft -I "$LAB" -f "$SDIR/rules.nft"
  nx "$NS_R" nft list ruleset >"$W/ruleset.nft"
  log "rules loaded from $SDIR/rules.nft"

  # --- peers -------------------------------------------------------------------------------------
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=lab.test" -addext "subjectAltName=DNS:fe.lab.test,DNS:edge.lab.test" \
    -keyout "$W/key.pem" -out "$W/cert.pem" 2>>"$LOG"
  head -c 1600 /dev/zero | tr '\0' '\377' >"$W/silence.ulaw" # 10 packets of mu-law silence
  local TLS=(openssl s_server -quiet -rev -num_tickets 0 -cert "$W/cert.pem" -key "$W/key.pem")

  # Front End: SIP/TLS 5061, web services 443 (IPv4 and IPv6), Focus 444, PSOM 8057, plaintext
  # SIP over TCP 5060 (the optional static-route / trusted-service listener; Lync's other server
  # SIP ports, 5063 among them, are MTLS, so a plaintext call belongs here) with audio on 50000,
  # the Registrar's DHCP responder on 67.
  peer "$NS_FE" fe-5061 "${TLS[@]}" -accept "$FE4:5061"
  peer "$NS_FE" fe-443 "${TLS[@]}" -accept "$FE4:443"
  peer "$NS_FE" fe-443-v6 "${TLS[@]}" -accept "[$FE6]:443"
  peer "$NS_FE" fe-444 "${TLS[@]}" -accept "$FE4:444"
  peer "$NS_FE" fe-8057 "${TLS[@]}" -accept "$FE4:8057"
  peer "$NS_FE" fe-sip-5060 sipp -sf "$PEERS/uas-rtp.xml" -t t1 -i "$FE4" -p 5060 -mi "$FE4" -mp 50000 -rtp_echo -nostdin
  peer "$NS_FE" fe-dhcp node "$PEERS/dhcp.mjs" server "$FE4"
  # Edge internal: coturn on 3478 and 443 (UDP and TCP each), and an SMB-looking listener on 445.
  local TURN=(turnserver -n --no-cli --no-tls --no-dtls --no-rfc5780 -z --simple-log -l stdout)
  peer "$NS_EI" ei-turn-3478 "${TURN[@]}" -L "$EI4" -p 3478 --userdb "$W/turndb-ei-3478" --pidfile "$W/ei-3478.pid"
  peer "$NS_EI" ei-turn-443 "${TURN[@]}" -L "$EI4" -p 443 --userdb "$W/turndb-ei-443" --pidfile "$W/ei-443.pid"
  peer "$NS_EI" ei-445 socat "TCP4-LISTEN:445,bind=$EI4,reuseaddr,fork" EXEC:"$PEERS/smb.sh response"
  # Mediation: SIP/TCP 5068 (audio 49152), SIP/UDP 5060 (audio 49156), SIP/TLS 5067.
  peer "$NS_MED" med-sip-5068 sipp -sf "$PEERS/uas-rtp.xml" -t t1 -i "$MED4" -p 5068 -mi "$MED4" -mp 49152 -rtp_echo -nostdin
  peer "$NS_MED" med-sip-5060 sipp -sf "$PEERS/uas-rtp.xml" -t u1 -i "$MED4" -p 5060 -mi "$MED4" -mp 49156 -rtp_echo -nostdin
  peer "$NS_MED" med-5067 "${TLS[@]}" -accept "$MED4:5067"
  # Edge external: Access Edge SIP/TLS on 443, A/V Edge STUN on 3478, and a telnet banner on 23.
  peer "$NS_EE" ee-443 "${TLS[@]}" -accept "$EE4:443"
  peer "$NS_EE" ee-turn-3478 "${TURN[@]}" -L "$EE4" -p 3478 --userdb "$W/turndb-ee" --pidfile "$W/ee-3478.pid"
  peer "$NS_EE" ee-23 socat "TCP4-LISTEN:23,bind=$EE4,reuseaddr,fork" EXEC:"$PEERS/telnet.sh"

  wait_listen() { # NS tcp|udp ADDR PORT
    local i flag=-Hltn
    [ "$2" = udp ] && flag=-Hlun
    for i in $(seq 1 100); do
      [ -n "$(nx "$1" ss "$flag" "sport = :$4" 2>/dev/null)" ] && return 0
      sleep 0.05
    done
    log "peer not listening: $2 $3:$4 in $1"
    return 1
  }
  wait_listen "$NS_FE" tcp "$FE4" 5061
  wait_listen "$NS_FE" tcp "$FE4" 443
  wait_listen "$NS_FE" tcp "$FE6" 443
  wait_listen "$NS_FE" tcp "$FE4" 444
  wait_listen "$NS_FE" tcp "$FE4" 8057
  wait_listen "$NS_FE" tcp "$FE4" 5060
  wait_listen "$NS_FE" udp "$FE4" 50000
  wait_listen "$NS_FE" udp "$FE4" 67
  wait_listen "$NS_EI" udp "$EI4" 3478
  wait_listen "$NS_EI" tcp "$EI4" 443
  wait_listen "$NS_EI" tcp "$EI4" 445
  wait_listen "$NS_MED" tcp "$MED4" 5068
  wait_listen "$NS_MED" udp "$MED4" 5060
  wait_listen "$NS_MED" udp "$MED4" 49152
  wait_listen "$NS_MED" tcp "$MED4" 5067
  wait_listen "$NS_EE" tcp "$EE4" 443
  wait_listen "$NS_EE" udp "$EE4" 3478
  wait_listen "$NS_EE" tcp "$EE4" 23
  log "peers listening"

  # --- the client side's actions ----------------------------------------------------------------
  # tls LOCAL LPORT SERVER SPORT LINE [S_CLIENT OPTIONS...]: a TLS session from a fixed local port
  # that sends one line and closes; s_server -rev answers it. Bounded at 2.5 s (a dropped SYN is
  # sent twice). Extra options change the client (-verify_return_error, -cipher, ...).
  tls() {
    { printf '%s\r\n' "$5"; sleep 0.3; } |
      timeout 2.5 ip netns exec "$NS_C" openssl s_client -connect "$(hostport "$3" "$4")" \
        -bind "$(hostport "$1" "$2")" -quiet -no_ign_eof -nocommands -verify_quiet -noservername "${@:6}" >>"$W/client.log" 2>&1
  }
  # connect LOCAL LPORT SERVER SPORT: a plain TCP connection from a fixed local port that sends
  # nothing and closes after a second (or fails at once on a reset or an ICMP error).
  connect() {
    { sleep 0.5; } | timeout 2.5 ip netns exec "$NS_C" socat -T 1 - "TCP:$(hostport "$3" "$4"),bind=$(hostport "$1" "$2")" >>"$W/client.log" 2>&1
  }
  # call TRANSPORT LOCAL SIP_PORT MEDIA_PORT SERVER SPORT: one sipp call with RTP both ways.
  call() {
    (cd "$W" && timeout 6 ip netns exec "$NS_C" sipp -sf "$PEERS/uac-rtp.xml" -t "$1" -i "$2" -bind_local \
      -p "$3" -mi "$2" -mp "$4" -m 1 -s lab "$5:$6" -nostdin -timeout 5s -timeout_error \
      -trace_err -error_file "$W/uac-$3.err" >/dev/null 2>>"$W/client.log")
  }
  stun() { timeout 3 ip netns exec "$NS_C" node "$PEERS/stun.mjs" "$@" >>"$W/client.log" 2>&1; }
  # hold NAME LOCAL LPORT SERVER SPORT: a TLS session whose input is a fifo; a sleeping writer
  # keeps the fifo open (the shell itself never holds it, so no child inherits it), say writes a
  # line, release ends the writer, and s_client sees end of input and closes the session.
  hold() {
    mkfifo "$W/hold-$1"
    ip netns exec "$NS_C" openssl s_client -connect "$(hostport "$4" "$5")" -bind "$(hostport "$2" "$3")" \
      -quiet -no_ign_eof -nocommands -verify_quiet -noservername <"$W/hold-$1" >"$W/hold-$1.log" 2>&1 &
    PIDS+=($!)
    sleep 120 >"$W/hold-$1" &
    PIDS+=($!)
    echo $! >"$W/hold-$1.writer"
    # s_client reports the (self-signed) certificate while handshaking; its Finished follows at once.
    local i
    for i in $(seq 1 100); do
      grep -q 'verify' "$W/hold-$1.log" 2>/dev/null && break
      sleep 0.05
    done
    sleep 0.3
  }
  say() { printf '%s\r\n' "$2" >"$W/hold-$1"; sleep 0.2; }
  release() { kill "$(cat "$W/hold-$1.writer")"; sleep 0.3; }

  # step PHASE NAME: PHASE is "before" (ahead of the capture) or "during".
  step() {
    case "$1:$2" in
      during:dhcp-inform-fe)
        timeout 3 ip netns exec "$NS_C" node "$PEERS/dhcp.mjs" inform "$C4" "$FE4" >>"$W/client.log" 2>&1 ;;
      during:sip-tls-fe) tls "$C4" 40061 "$FE4" 5061 'REGISTER sip:lab.test SIP/2.0' ;;
      during:https-fe) tls "$C4" 40443 "$FE4" 443 'GET /abs/handler/ HTTP/1.1' ;;
      during:https-fe-v6) tls "$C6" 40446 "$FE6" 443 'GET /CertProv/CertProvisioningService.svc HTTP/1.1' ;;
      during:focus-fe) tls "$C4" 40444 "$FE4" 444 'POST /LiveServer/Focus HTTP/1.1' ;;
      during:psom-fe) tls "$C4" 40057 "$FE4" 8057 'PSOM' ;;
      during:stun-udp-edge-int) stun udp "$C4" 40478 "$EI4" 3478 ;;
      during:stun-tcp-edge-int) stun tcp "$C4" 40479 "$EI4" 443 ;;
      during:stun-udp-edge-ext) stun udp "$C4" 40480 "$EE4" 3478 ;;
      during:sip-tls-edge-ext) tls "$C4" 40481 "$EE4" 443 'REGISTER sip:lab.test SIP/2.0' ;;
      during:call-client-fe) call t1 "$C4" 45060 40002 "$FE4" 5060 ;;
      during:call-gateway-med-tcp) call t1 "$GW4" 45068 40000 "$MED4" 5068 ;;
      during:call-gateway-med-udp) call u1 "$GW4" 5060 40004 "$MED4" 5060 ;;
      during:sip-tls-med) tls "$GW4" 45067 "$MED4" 5067 'OPTIONS sip:med.lab.test SIP/2.0' ;;
      during:sip-plain-to-tls-med)
        (cd "$W" && timeout 3 ip netns exec "$NS_C" sipp -sf "$PEERS/uac-options.xml" -t t1 -i "$GW4" -bind_local \
          -p 45167 -m 1 -s lab "$MED4:5067" -nostdin -timeout 2s -timeout_error >/dev/null 2>>"$W/client.log") ;;
      during:telnet-edge-ext)
        { sleep 0.5; } | timeout 2.5 ip netns exec "$NS_C" socat -T 1 - "TCP4:$EE4:23,bind=$C4:40023" >>"$W/client.log" 2>&1 ;;
      # A client on the Mediation Server's TCP 5068, which the catalog names for the PSTN gateway.
      during:call-client-med-tcp) call t1 "$C4" 45168 40010 "$MED4" 5068 ;;
      during:connect-client-med-5068-a) connect "$C4" 41068 "$MED4" 5068 ;;
      during:connect-client-med-5068-b) connect "$C4" 42068 "$MED4" 5068 ;;
      # A client that does not trust the server's (self-signed) certificate: it ends the handshake
      # with the alert unknown_ca. TLS 1.2, so that the alert is in the clear.
      during:sip-tls-fe-cert-rejected)
        tls "$C4" 40161 "$FE4" 5061 'REGISTER sip:lab.test SIP/2.0' -tls1_2 -verify_return_error ;;
      # A client offering only a cipher suite the server does not have (RSA key exchange against an
      # EC certificate): the server ends the handshake with the alert handshake_failure.
      during:sip-tls-fe-no-shared-cipher)
        tls "$C4" 40162 "$FE4" 5061 'REGISTER sip:lab.test SIP/2.0' -tls1_2 -cipher AES128-SHA ;;
      # PSOM compatibility port 8058: nothing listens there, so the Front End's own kernel resets.
      during:psom-compat-fe) connect "$C4" 40158 "$FE4" 8058 ;;
      during:smb-edge-int)
        { sh "$PEERS/smb.sh" request; sleep 0.3; } |
          timeout 2.5 ip netns exec "$NS_C" socat -T 1 - "TCP4:$EI4:445,bind=$C4:40445" >/dev/null 2>>"$W/client.log" ;;
      # A SIP/TLS session that was up before the capture started and ends during it.
      before:sip-tls-fe-before-capture) hold early "$C4" 40062 "$FE4" 5061 ;;
      during:sip-tls-fe-before-capture) say early 'REGISTER sip:lab.test SIP/2.0'; release early ;;
      # A PSOM session still open when the capture stops.
      during:psom-fe-after-capture) hold late "$C4" 40058 "$FE4" 8057; say late 'PSOM' ;;
      before:*) return 0 ;;
      *) log "unknown step $2"; return 2 ;;
    esac
  }

  local steps
  steps=$(node -e 'for (const s of require(process.argv[1]).steps) console.log(s)' "$SDIR/expected.json")
  local s
  for s in $steps; do step before "$s"; done

  # --- capture both sides of the router ------------------------------------------------------
  # Multicast is left out: with fixed neighbours it can only be the hosts' own IGMP and MLD
  # reports from link-up, which no scenario is about.
  local FILTER='not arp and not ip multicast and not ip6 multicast'
  peer "$NS_R" tcpdump-client tcpdump -i c0 -n -U --immediate-mode -s 0 -Z root -w "$DEST/client.pcap" "$FILTER"
  local TD_C=${PIDS[-1]}
  peer "$NS_R" tcpdump-server tcpdump -i br0 -n -U --immediate-mode -s 0 -Z root -w "$DEST/server.pcap" "$FILTER"
  local TD_S=${PIDS[-1]}
  local i
  for i in $(seq 1 100); do
    grep -q 'listening on' "$W/tcpdump-client.log" 2>/dev/null && grep -q 'listening on' "$W/tcpdump-server.log" 2>/dev/null && break
    sleep 0.05
  done
  sleep 0.2
  log "capturing"

  local rc t0 t1
  printf 'step\texit\tseconds\n' >"$DEST/steps.tsv"
  for s in $steps; do
    t0=$(date +%s.%N)
    rc=0
    step during "$s" || rc=$?
    t1=$(date +%s.%N)
    printf '%s\t%s\t%.2f\n' "$s" "$rc" "$(echo "$t1 - $t0" | awk '{print $1 - $3}')" >>"$DEST/steps.tsv"
    log "step $s exit $rc"
    sleep 0.1
  done
  sleep 0.4
  kill -INT "$TD_C" "$TD_S"
  wait "$TD_C" "$TD_S" || true
  cat "$W/tcpdump-client.log" "$W/tcpdump-server.log" >>"$LOG"
  editcap -F pcapng "$DEST/client.pcap" "$DEST/client.pcapng"
  editcap -F pcapng "$DEST/server.pcap" "$DEST/server.pcapng"
  log "captured $(stat -c %s "$DEST/client.pcapng") + $(stat -c %s "$DEST/server.pcapng") bytes"
}

# ---------------------------------------------------------------------------------------------
# Run the scenarios, at most $JOBS at a time; each cleans up after itself.
CHILDREN=()
on_signal() {
  local pid
  for pid in "${CHILDREN[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait
  exit 130
}
trap on_signal INT TERM HUP

declare -A CHILD_SCENARIO=()
FAILED=()
reap_one() {
  local pid rc=0
  wait -n -p pid || rc=$?
  if [ "$rc" -ne 0 ]; then
    FAILED+=("${CHILD_SCENARIO[$pid]}")
    echo "run.sh: scenario ${CHILD_SCENARIO[$pid]} failed (exit $rc), see $OUT/${CHILD_SCENARIO[$pid]}/lab.log" >&2
  fi
  local keep=()
  for p in "${CHILDREN[@]}"; do [ "$p" != "$pid" ] && keep+=("$p"); done
  CHILDREN=("${keep[@]}")
}

idx=0
for s in "${SCENARIOS[@]}"; do
  while [ ${#CHILDREN[@]} -ge "$JOBS" ]; do reap_one; done
  idx=$((idx + 1))
  (run_scenario "$s" "$idx") &
  CHILDREN+=($!)
  CHILD_SCENARIO[$!]=$s
done
while [ ${#CHILDREN[@]} -gt 0 ]; do reap_one; done

if [ "$STORE" = 1 ]; then
  for s in "${SCENARIOS[@]}"; do
    [ -f "$OUT/$s/client.pcapng" ] || continue
    mkdir -p "$LAB/captures/$s"
    cp "$OUT/$s/client.pcapng" "$OUT/$s/server.pcapng" "$LAB/captures/$s/"
  done
  # samples.txt: <sample> <scenario> <side> <pcap|pcapng>; the README.md of each sample is hand-written.
  while read -r sample scen side fmt; do
    case "$sample" in '' | '#'*) continue ;; esac
    [ -f "$OUT/$scen/$side.$fmt" ] || continue
    mkdir -p "$REPO/samples/$sample"
    cp "$OUT/$scen/$side.$fmt" "$REPO/samples/$sample/capture.$fmt"
    cp "$LAB/scenarios/$scen/topology.json" "$REPO/samples/$sample/topology.json"
  done <"$LAB/samples.txt"
fi

echo "run.sh: captures in $OUT"
[ ${#FAILED[@]} -eq 0 ] || exit 1
