"""Retrieve a maildrop from the lab with Python's poplib.

Usage: python3 pop_client.py HOST PORT MODE CAFILE USER PASSWORD OUTDIR,
MODE "stls" (POP3 then STLS) or "ssl" (POP3S). Each message is written to
OUTDIR/N.eml exactly as received (lines joined with CRLF, byte-stuffing
undone by poplib); STAT, UIDL and LIST are printed as JSON.
"""
import json
import os
import poplib
import ssl
import sys

host, port, mode, cafile, user, password, outdir = sys.argv[1:8]
ctx = ssl.create_default_context(cafile=cafile)
out = {}
if mode == "ssl":
    p = poplib.POP3_SSL(host, int(port), context=ctx, timeout=60)
else:
    p = poplib.POP3(host, int(port), timeout=60)
    # USER/PASS before TLS must be refused by the server.
    try:
        p.user(user)
        out["plain_user"] = "accepted"
    except poplib.error_proto as e:
        out["plain_user"] = str(e)
    p.stls(ctx)
p.user(user)
p.pass_(password)
out["stat"] = list(p.stat())
out["uidl"] = [l.decode() for l in p.uidl()[1]]
out["list"] = [l.decode() for l in p.list()[1]]
octets = []
for i in range(1, out["stat"][0] + 1):
    resp, lines, n = p.retr(i)
    with open(os.path.join(outdir, "%d.eml" % i), "wb") as f:
        f.write(b"".join(l + b"\r\n" for l in lines))
    octets.append(n)
out["octets"] = octets
out["quit"] = p.quit().decode()
print(json.dumps(out))
