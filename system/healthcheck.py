"""Container healthcheck: exit 0 when http://127.0.0.1:PORT/PATH answers 200 within 2 s.

A raw socket rather than urllib: Docker runs this every 2 s in every app container, and
importing urllib.request costs several times more CPU than the check itself.
"""

import socket
import sys

url = sys.argv[1].removeprefix("http://")
hostport, _, path = url.partition("/")
host, _, port = hostport.partition(":")
try:
    with socket.create_connection((host, int(port or 80)), timeout=2) as sock:
        sock.settimeout(2)
        sock.sendall(f"GET /{path} HTTP/1.0\r\nHost: {hostport}\r\n\r\n".encode())
        status_line = sock.recv(64).split(b"\r\n", 1)[0]
    sys.exit(0 if status_line.split(b" ")[1:2] == [b"200"] else 1)
except (OSError, IndexError, ValueError):
    sys.exit(1)
