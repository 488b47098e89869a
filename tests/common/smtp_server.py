"""A real SMTP server on loopback for the tests (tests/common/smtp.rs starts it).

Debian's python3-aiosmtpd speaks SMTP over TCP; this handler writes each message it accepts to
OUT_DIR as one JSON file, parsed by Python's own e-mail package (an independent MIME reader):
envelope, decoded subject, Message-ID, the text and HTML parts decoded, and the raw message.
With --refuse "550 5.1.1 ..." every recipient is refused with that reply (4xx or 5xx).
Prints "PORT <n>" on stdout once it accepts connections.

    /usr/bin/python3 tests/common/smtp_server.py OUT_DIR [--port N] [--refuse REPLY]
"""

import argparse
import asyncio
import email
import json
import os
from email import policy

from aiosmtpd.smtp import SMTP


class Recorder:
    def __init__(self, out_dir, refuse):
        self.out_dir = out_dir
        self.refuse = refuse
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=policy.default)
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(message["From"]),
            "to": str(message["To"]),
            "subject": str(message["Subject"]),
            "raw_subject": raw.split(b"\r\nSubject:", 1)[-1].split(b"\r\n", 1)[0].decode("ascii", "replace").strip(),
            "message_id": str(message["Message-ID"]),
            "content_type": message.get_content_type(),
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
            "raw": raw.decode("ascii", "replace"),
        }
        self.count += 1
        name = os.path.join(self.out_dir, "%06d" % self.count)
        with open(name + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(name + ".tmp", name + ".json")
        return "250 2.0.0 Message accepted"


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--refuse")
    args = parser.parse_args()
    handler = Recorder(args.out_dir, args.refuse)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="smtp.test", enable_SMTPUTF8=True),
        host="127.0.0.1",
        port=args.port,
    )
    print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(main())
