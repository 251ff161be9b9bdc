"""Drive the lab with Python's smtplib, as a mail client would.

Usage: python3 smtp_client.py SPEC_JSON. The spec names the port, the TLS
mode ("none", "starttls", "implicit"), an optional AUTH mechanism and the
messages to send; the result (EHLO keywords, AUTH reply, each sendmail
outcome with the codes of any refusal) is printed as JSON for the Go test.
"""
import json
import smtplib
import ssl
import sys


def reply(code, msg):
    return [code, msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)]


def error(e):
    out = {"error": type(e).__name__}
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        out["recipients"] = {k: reply(*v) for k, v in e.recipients.items()}
    elif isinstance(e, smtplib.SMTPResponseException):
        out["reply"] = reply(e.smtp_code, e.smtp_error)
    else:
        out["text"] = str(e)
    return out


def main():
    spec = json.loads(sys.argv[1])
    ctx = ssl.create_default_context(cafile=spec["cafile"])
    out = {}
    if spec["tls"] == "implicit":
        s = smtplib.SMTP_SSL(spec["host"], spec["port"], context=ctx, timeout=60)
    else:
        s = smtplib.SMTP(spec["host"], spec["port"], timeout=60)
    s.ehlo("interop.example")
    out["features"] = sorted(s.esmtp_features)
    auth = spec.get("auth")
    if spec.get("probe_plain_auth"):
        # smtplib itself refuses: AUTH is not advertised before TLS.
        try:
            s.login(auth["user"], auth["password"])
            out["plain_login"] = {"ok": True}
        except smtplib.SMTPException as e:
            out["plain_login"] = error(e)
        # Forced onto the wire anyway, the server must refuse it.
        out["plain_auth_docmd"] = reply(*s.docmd("AUTH", "PLAIN AGFsaWNlAHdvbmRlcmxhbmQ="))
    if spec["tls"] == "starttls":
        out["starttls"] = reply(*s.starttls(context=ctx))
        s.ehlo("interop.example")
        out["features_tls"] = sorted(s.esmtp_features)
    if auth:
        s.user, s.password = auth["user"], auth["password"]
        fn = {"PLAIN": s.auth_plain, "LOGIN": s.auth_login, "CRAM-MD5": s.auth_cram_md5}[auth["mech"]]
        try:
            out["auth"] = reply(*s.auth(auth["mech"], fn))
        except smtplib.SMTPException as e:
            out["auth"] = error(e)
    results = []
    for m in spec.get("messages") or []:
        with open(m["file"], "rb") as f:
            data = f.read()
        try:
            refused = s.sendmail(m["from"], m["to"], data, mail_options=m.get("options", []))
            results.append({"ok": True, "refused": {k: reply(*v) for k, v in refused.items()}})
        except smtplib.SMTPException as e:
            results.append(error(e))
    out["results"] = results
    out["quit"] = reply(*s.quit())
    print(json.dumps(out))


main()
