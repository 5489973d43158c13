#!/usr/bin/env python3
"""
surveyd's TLS as a scanner and old clients see it, with the deploy certificate
(deploy/make-ca.sh): testssl.sh (Debian) reports no finding rated LOW, MEDIUM, HIGH or
CRITICAL; handshakes offering only TLS 1.0, only TLS 1.1, only CBC suites or only DHE suites are
refused (checked with our own client too, not just the scanner's word); plain HTTP sent to the
TLS port gets no HTTP answer, and a TLS 1.2 ECDHE-GCM and a TLS 1.3 client are served.

usage: attack_tls_scan.py SURVEYD (run through ctest: a fresh database in $DATABASE_URL)
"""

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import opslib  # noqa: E402
from opslib import check, log  # noqa: E402

BAD = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
# Findings about things other than surveyd, with the reason; each is still printed.
NOT_OURS = {
    # A CAA record belongs to the DNS zone of the public name (docs/operations.md asks the
    # operator for one); a scan of localhost without DNS can never find it.
    "DNS_CAArecord": "a DNS zone property, not the server's",
}
state = {}


def setup():
    state["work"] = opslib.Workdir("ops-tls-")
    state["db"] = opslib.Database(os.environ["SURVEY_TEST_DB"])
    state["db"].wave("tls-open")
    state["surveyd"] = opslib.start_surveyd(state)


def handshake(ctx):
    """True when a handshake with ctx completes."""
    try:
        with socket.create_connection(("127.0.0.1", state["surveyd"].port), timeout=10) as tcp:
            with ctx.wrap_socket(tcp, server_hostname="localhost") as s:
                return s.version() is not None
    except (OSError, ssl.SSLError):
        return False


def old_context(version=None, ciphers=None):
    """An unverifying client context that allows what OpenSSL 3 normally refuses itself."""
    import warnings
    warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0/1.1 on purpose
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers((ciphers or "ALL") + ":@SECLEVEL=0")
    if version is not None:
        ctx.minimum_version = version
        ctx.maximum_version = version
    return ctx


def weak_protocols_and_suites_are_refused():
    check(handshake(state["ctx"]), "a default modern client is served")
    check(handshake(old_context(ssl.TLSVersion.TLSv1_3)), "TLS 1.3 is served")
    check(handshake(old_context(ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-GCM-SHA256")),
          "TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256 is served")
    check(handshake(old_context(ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-CHACHA20-POLY1305")),
          "TLS 1.2 ECDHE-ECDSA-CHACHA20-POLY1305 is served")
    check(not handshake(old_context(ssl.TLSVersion.TLSv1)), "TLS 1.0 is refused")
    check(not handshake(old_context(ssl.TLSVersion.TLSv1_1)), "TLS 1.1 is refused")
    for suites in ("ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA256:"
                   "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES128-SHA:AES128-SHA:AES256-SHA256",
                   "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:"
                   "DHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-SHA",
                   "AES128-GCM-SHA256:AES256-GCM-SHA384", "ECDHE-ECDSA-NULL-SHA:NULL",
                   "RC4:3DES:EXP:aNULL"):
        check(not handshake(old_context(ssl.TLSVersion.TLSv1_2, suites)),
              "TLS 1.2 offering only %s is refused" % suites.split(":")[0])


def plain_http_gets_no_http_answer():
    got = b""
    with socket.create_connection(("127.0.0.1", state["surveyd"].port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        try:
            while len(got) < 65536:
                b = s.recv(4096)
                if not b:
                    break
                got += b
        except (ConnectionResetError, socket.timeout):
            pass
    check(b"HTTP/" not in got and b"healthz" not in got.lower(),
          "plain HTTP gets no HTTP answer (got %r)" % got[:80])
    check(len(got) < 64, "at most a TLS alert comes back (%d bytes)" % len(got))


def testssl_finds_nothing_rated_low_or_worse():
    out = os.path.join(state["work"].path, "testssl.json")
    exe = shutil.which("testssl") or shutil.which("testssl.sh")
    argv = [exe, "--quiet", "--color", "0", "--warnings", "off", "--add-ca", state["ca"],
            "--openssl-timeout", "10", "--jsonfile", out, "--ip", "127.0.0.1",
            "localhost:%d" % state["surveyd"].port]
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=900)
    try:
        with open(out) as f:
            findings = json.load(f)
    except (OSError, ValueError) as e:
        check(False, "testssl wrote its JSON (%r); exit %d: %s" % (e, r.returncode,
                                                                   r.stdout[-2000:]))
        return
    bad = [f for f in findings if f.get("severity") in BAD and f.get("id") not in NOT_OURS]
    for f in findings:
        if f.get("id") in NOT_OURS:
            log("  not counted: %s %s %r (%s)" % (f.get("severity"), f["id"], f.get("finding"),
                                                 NOT_OURS[f["id"]]))
    by = {}
    for f in findings:
        by[f.get("severity")] = by.get(f.get("severity"), 0) + 1
    log("testssl.sh: %d findings by severity %s" % (len(findings), dict(sorted(by.items()))))
    for f in bad:
        log("  %s %s: %s" % (f["severity"], f["id"], f["finding"]))
    check(not bad, "testssl.sh: nothing rated LOW or worse (%d)" % len(bad))
    ids = {f["id"]: f["finding"] for f in findings}
    check(len(findings) > 50, "testssl ran its checks (%d findings)" % len(findings))
    for proto in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        check(ids.get(proto, "").startswith("not offered"), "testssl: %s not offered (%r)"
              % (proto, ids.get(proto)))
    for proto in ("TLS1_2", "TLS1_3"):
        check(ids.get(proto, "").startswith("offered"), "testssl: %s offered" % proto)
    # Every TLS 1.2 suite it found: ECDHE with an AEAD (no CBC, no DHE, no static RSA).
    suites = ids.get("cipherorder_TLSv1_2", "").split()
    suites += [f.split()[1] for i, f in ids.items() if i.startswith("cipher_x") and
               len(f.split()) > 1 and not f.split()[1].startswith("TLS_")]
    check(len(suites) >= 3, "testssl listed the TLS 1.2 suites (%s)" % suites)
    weak = [c for c in suites if not (c.startswith("ECDHE-") and ("GCM" in c or "CHACHA20" in c))]
    check(not weak, "testssl finds only ECDHE AEAD suites in TLS 1.2 (%s)" % weak)


def main():
    if not (shutil.which("testssl") or shutil.which("testssl.sh")):
        log("testssl.sh is missing (apt-get install testssl.sh)")
        return 1
    return opslib.run_cases([weak_protocols_and_suites_are_refused,
                             plain_http_gets_no_http_answer,
                             testssl_finds_nothing_rated_low_or_worse],
                            setup=setup, teardown=lambda rc: opslib.stop_all(state, rc))


if __name__ == "__main__":
    sys.exit(main())
