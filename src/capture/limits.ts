/**
 * Hard limits applied to lengths read from a capture before anything is allocated or skipped.
 * 262144 is libpcap's and Wireshark's maximum snapshot length (MAXIMUM_SNAPLEN); tshark
 * refuses larger packets with the same message.
 */
export const MAX_PACKET_LENGTH = 262144;
/** pcapng blocks other than packets (name resolution, statistics, custom) may be long, but not this long. */
export const MAX_BLOCK_LENGTH = 16 * 1024 * 1024;
/** At most this many warnings are kept with their offsets; later ones are only counted. */
export const MAX_KEPT_WARNINGS = 20;
