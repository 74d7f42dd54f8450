#!/bin/sh
# SMB2 over direct TCP (MS-SMB2 2.1: a 4-byte NetBIOS session header, then the message), for the
# lab's "unexpected service" on the Edge: `smb.sh request` prints a NEGOTIATE request (2.2.3,
# dialect 2.0.2); `smb.sh response` reads it and answers with an error response (2.2.2) whose
# status is STATUS_NOT_SUPPORTED, enough for the service to be plainly SMB and plainly answering.
zeros() { head -c "$1" /dev/zero; }
# One write per message, so each goes out as one TCP segment.
whole() { dd bs="$1" count=1 iflag=fullblock 2>/dev/null; }
header() { # $1 status (4 bytes, octal escapes), $2 flags (4 bytes)
  printf '\376SMB\100\000\000\000'
  printf "$1"
  printf '\000\000\001\000'
  printf "$2"
  zeros 44 # NextCommand, MessageId, Reserved, TreeId, SessionId, Signature
}
case "$1" in
  request)
    {
      printf '\000\000\000\146' # 102 bytes follow
      header '\000\000\000\000' '\000\000\000\000'
      printf '\044\000\001\000\001\000\000\000\000\000\000\000'
      printf 'lpa-lab-smb-guid'
      zeros 8
      printf '\002\002'
    } | whole 106
    ;;
  response)
    head -c 106 >/dev/null
    {
      printf '\000\000\000\111' # 73 bytes follow
      header '\273\000\000\300' '\001\000\000\000'
      printf '\011\000\000\000\000\000\000\000\000'
    } | whole 77
    ;;
  *) echo "usage: smb.sh request|response" >&2; exit 2 ;;
esac
