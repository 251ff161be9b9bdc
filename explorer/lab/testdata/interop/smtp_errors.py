"""Syntax errors and a failed STARTTLS, as Python's smtplib sees them.

Usage: python3 smtp_errors.py SPEC_JSON. Mode "replies" logs in nowhere but
sends, after STARTTLS on the submission port, an AUTH PLAIN initial response
and an AUTH LOGIN response that are not base64 (RFC 4954 section 4) and a
MAIL FROM with a malformed AUTH= parameter (RFC 4954 section 5). Mode
"tlsfail" runs STARTTLS against a server whose handshake fails, then tries
one more command in clear. The outcomes are printed as JSON for the Go test.
"""
import json
import smtplib
import ssl
import sys


def reply(code, msg):
    return [code, msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)]


def replies(spec, ctx):
    out = {}
    s = smtplib.SMTP(spec["host"], spec["port"], timeout=60)
    s.ehlo("interop.example")
    s.starttls(context=ctx)
    s.ehlo("interop.example")
    out["auth_plain_ir"] = reply(*s.docmd("AUTH", "PLAIN !!!not-base64!!!"))
    out["auth_login"] = reply(*s.docmd("AUTH", "LOGIN"))
    out["auth_login_response"] = reply(*s.docmd("%%%"))
    out["mail_auth_param"] = reply(*s.mail("alice@postlab.test", ["AUTH=+zz"]))
    out["rset"] = reply(*s.rset())
    out["quit"] = reply(*s.quit())
    return out


def tlsfail(spec, ctx):
    out = {}
    s = smtplib.SMTP(spec["host"], spec["port"], timeout=60)
    s.ehlo("interop.example")
    try:
        s.starttls(context=ctx)
        out["starttls"] = "ok"
    except (ssl.SSLError, OSError) as e:
        out["starttls"] = type(e).__name__
    # A server that went on in clear would answer this NOOP, or hand it a
    # reply meant for the handshake.
    try:
        out["noop"] = reply(*s.noop())
    except (smtplib.SMTPServerDisconnected, OSError) as e:
        out["noop"] = type(e).__name__
    return out


def main():
    spec = json.loads(sys.argv[1])
    ctx = ssl.create_default_context(cafile=spec["cafile"])
    fn = {"replies": replies, "tlsfail": tlsfail}[spec["mode"]]
    print(json.dumps(fn(spec, ctx)))


main()
