"""feeds: an HTTP service that publishes the project's news feeds.

    GET /healthz              "ok"
    GET /feeds                the feeds and their entry counts, JSON
    GET /feeds/<name>.json    a JSON Feed (version 1.1)
    GET /feeds/<name>.atom    an Atom feed (xml.etree)
    GET /feeds/<name>.csv     the entries as CSV

Every response has an ETag (the SHA-256 of its body), feeds have a Last-Modified date,
and bodies are gzip-compressed when the client accepts it. The listen address comes
from $LISTEN_ADDR (default :8080). Standard library only: http.server, json, xml, csv,
gzip, hashlib, uuid, datetime, email.utils.
"""

import csv
import gzip
import hashlib
import io
import json
import logging
import os
import sys
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

BASE = "https://example.invalid/x"

# name -> (title, entries); an entry is (id, unix time, title, text).
FEEDS = {
    "releases": (
        "x releases",
        [
            ("v1.0.0", 1700000000, "x 1.0", "First release: eleven services, one repository."),
            ("v1.1.0", 1702592000, "x 1.1", "The gateway learns to route /geo and /atlas."),
            ("v1.2.0", 1705270400, "x 1.2", "report prints times in any zone."),
            ("v1.3.0", 1707948800, "x 1.3", "feeds and ledger join the monorepo."),
        ],
    ),
    "incidents": (
        "x incidents",
        [
            ("inc-1", 1701000000, "geoip returns stale cities", "The geo database was rebuilt."),
            ("inc-2", 1704000000, "relay timeouts", "Upstream TLS handshakes took 30 s; fixed."),
        ],
    ),
}

log = logging.getLogger("feeds")


def rfc3339(ts):
    return datetime.fromtimestamp(ts, timezone.utc).isoformat().replace("+00:00", "Z")


def last_modified(name):
    return max(ts for _, ts, _, _ in FEEDS[name][1])


def json_feed(name):
    title, entries = FEEDS[name]
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": title,
            "home_page_url": BASE,
            "feed_url": f"{BASE}/feeds/{name}.json",
            "items": [
                {"id": i, "title": t, "content_text": text, "date_published": rfc3339(ts)}
                for i, ts, t, text in entries
            ],
        },
        indent=1,
        sort_keys=True,
    ).encode()


def atom_feed(name):
    title, entries = FEEDS[name]
    ns = "http://www.w3.org/2005/Atom"
    ET.register_namespace("", ns)
    feed = ET.Element(f"{{{ns}}}feed")
    ET.SubElement(feed, f"{{{ns}}}title").text = title
    ET.SubElement(feed, f"{{{ns}}}id").text = f"{BASE}/feeds/{name}"
    ET.SubElement(feed, f"{{{ns}}}updated").text = rfc3339(last_modified(name))
    for i, ts, t, text in entries:
        entry = ET.SubElement(feed, f"{{{ns}}}entry")
        ET.SubElement(entry, f"{{{ns}}}id").text = uuid.uuid5(uuid.NAMESPACE_URL, f"{BASE}/feeds/{name}/{i}").urn
        ET.SubElement(entry, f"{{{ns}}}title").text = t
        ET.SubElement(entry, f"{{{ns}}}updated").text = rfc3339(ts)
        ET.SubElement(entry, f"{{{ns}}}summary").text = text
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def csv_feed(name):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "time", "title"])
    for i, ts, t, _ in FEEDS[name][1]:
        writer.writerow([i, ts, t])
    return out.getvalue().encode()


RENDER = {
    "json": ("application/feed+json", json_feed),
    "atom": ("application/atom+xml", atom_feed),
    "csv": ("text/csv; charset=utf-8", csv_feed),
}


class Handler(BaseHTTPRequestHandler):
    server_version = "feeds/1.0"

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/healthz":
            return self.reply(b"ok\n", "text/plain; charset=utf-8")
        if path == "/feeds":
            body = json.dumps({n: len(e) for n, (_, e) in sorted(FEEDS.items())}, sort_keys=True).encode()
            return self.reply(body, "application/json")
        name, _, kind = path.removeprefix("/feeds/").rpartition(".")
        if path.startswith("/feeds/") and name in FEEDS and kind in RENDER:
            content_type, render = RENDER[kind]
            return self.reply(render(name), content_type, formatdate(last_modified(name), usegmt=True))
        self.send_error(HTTPStatus.NOT_FOUND, "no such feed")

    def reply(self, body, content_type, modified=None):
        etag = '"%s"' % hashlib.sha256(body).hexdigest()
        if self.headers.get("If-None-Match") == etag:
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.end_headers()
            return
        if "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, mtime=0)
            encoding = "gzip"
        else:
            encoding = None
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("ETag", etag)
        if modified:
            self.send_header("Last-Modified", modified)
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        log.info("%s %s", self.address_string(), fmt % args)


def main():
    logging.basicConfig(level=logging.INFO, format="feeds: %(message)s", stream=sys.stderr)
    host, _, port = os.environ.get("LISTEN_ADDR", ":8080").rpartition(":")
    server = ThreadingHTTPServer((host or "0.0.0.0", int(port)), Handler)
    log.info("listening on %s:%s", host or "0.0.0.0", port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
