#!/bin/bash
# Container healthcheck: exit 0 when GET http://127.0.0.1:PORT/health answers 200.
# bash's /dev/tcp rather than Python: Docker runs this every 2 s in every app container, and
# starting an interpreter cost ~45 ms of CPU per check (a tenth of a core for eight containers).
# Docker's healthcheck timeout bounds a hung answer.
port="${1:?usage: healthcheck.sh PORT}"
exec 3<>"/dev/tcp/127.0.0.1/${port}" || exit 1
printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
IFS= read -r status <&3 || exit 1
# read the answer to its end: closing early resets the server's write (a traceback in its log)
while IFS= read -r _ <&3; do :; done
[[ "${status}" == "HTTP/1."?" 200 "* ]]
