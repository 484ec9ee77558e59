"""report: a nightly job that prints a JSON status report.

It exercises what a Python service needs from its image: the interpreter and standard
library, OpenSSL (hashlib, ssl), the time zone database ($PYTHONTZPATH) and the CA
bundle ($SSL_CERT_FILE). Every field is deterministic, so tests can check it.
"""

import hashlib
import json
import os
import platform
import ssl
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo


def count_certificates(path):
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read().count("-----BEGIN CERTIFICATE-----")
    except OSError:
        return 0


def main(argv):
    text = argv[1] if len(argv) > 1 else "planner"
    zone = os.environ.get("REPORT_TZ", "Europe/London")
    bundle = os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-bundle.crt")
    report = {
        "python": platform.python_version(),
        "openssl": ssl.OPENSSL_VERSION,
        "sha256": {text: hashlib.sha256(text.encode()).hexdigest()},
        "epoch": datetime.fromtimestamp(0, timezone.utc).astimezone(ZoneInfo(zone)).isoformat(),
        "zone": zone,
        "certificates": count_certificates(bundle),
    }
    json.dump(report, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
