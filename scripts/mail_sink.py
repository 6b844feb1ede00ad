#!/usr/bin/env python3
"""A real SMTP server for the tests: aiosmtpd writing every mail it accepts to a Maildir.

    python3 scripts/mail_sink.py --port 2525 --maildir /tmp/mail

Prints "listening on 127.0.0.1:PORT" once it accepts connections (`--port 0`: a free
port, the one printed), then serves until it is killed. Two kinds of recipient answer as real servers do when things go wrong, so
the shop's retries can be tested against real SMTP replies:

- a local part ending in "+451" is deferred ("451 4.3.0") at its first RCPT, then taken;
- a local part ending in "+550" is refused for good ("550 5.1.1") every time.

Everything else is accepted and stored (Maildir `new/`, one file per mail, as sent).
"""

import argparse
import asyncio
import collections
import os
import signal
import sys

from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP


class Sink(Mailbox):
    def __init__(self, maildir):
        super().__init__(maildir)
        self.deferred = collections.Counter()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local.endswith("+550"):
            return "550 5.1.1 Mailbox unavailable"
        if local.endswith("+451"):
            self.deferred[address] += 1
            if self.deferred[address] == 1:
                return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", required=True)
    args = parser.parse_args()
    # A Maildir's three folders (an existing empty directory is not made one by itself).
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(args.maildir, sub), exist_ok=True)
    handler = Sink(args.maildir)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(lambda: SMTP(handler), host=args.host, port=args.port)
    )
    port = server.sockets[0].getsockname()[1]
    print(f"listening on {args.host}:{port}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        loop.run_until_complete(stop.wait())
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
    return 0


if __name__ == "__main__":
    sys.exit(main())
