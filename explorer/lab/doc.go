// Package lab is postlab's practice mail server: SMTP in the MX role
// (RFC 5321, STARTTLS per RFC 3207), message submission (RFC 6409) with
// STARTTLS and with implicit TLS (RFC 8314) and SMTP AUTH (RFC 4954: PLAIN
// RFC 4616, LOGIN, CRAM-MD5 RFC 2195), POP3 (package pop3d), an
// authoritative DNS zone for the practice domain (package labdns), Maildir
// storage (https://cr.yp.to/proto/maildir.html) with fsync before every 250,
// users with bcrypt-hashed passwords, a self-signed certificate, and
// server-side traces of every session for the app to show.
//
// Classroom mode (Config.Classroom, Lab.SetupClassroom) serves a class on
// the teacher's network address: student accounts with random passwords,
// no practice users, no passwords without TLS, and a certificate that names
// the address students connect to.
//
// Start runs a Lab in-process; `postlab serve` runs one in the foreground.
package lab
