"""Syntax errors as Python's smtplib sees them.

Usage: python3 smtp_errors.py SPEC_JSON. After STARTTLS on the submission
port it sends an AUTH PLAIN initial response and an AUTH LOGIN response
that are not base64 (RFC 4954 section 4) and a MAIL FROM with a malformed
AUTH= parameter (RFC 4954 section 5), logging in nowhere. The replies are
printed as JSON for the Go test.
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


def main():
    spec = json.loads(sys.argv[1])
    ctx = ssl.create_default_context(cafile=spec["cafile"])
    print(json.dumps(replies(spec, ctx)))


main()
