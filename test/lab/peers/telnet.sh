#!/bin/sh
# A telnet server's first words (RFC 854 and 1091): IAC DO TERMINAL-TYPE, IAC WILL ECHO, then a
# login prompt. The lab's "unexpected service" on the Edge's external address.
printf '\377\375\030\377\373\001\r\nlab-edge login: '
sleep 0.3
