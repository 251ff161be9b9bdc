// Package explorer is postlab's protocol core: a client session for SMTP
// (RFC 5321, with STARTTLS per RFC 3207, AUTH per RFC 4954, CHUNKING per
// RFC 3030, PIPELINING per RFC 2920) and POP3 (RFC 1939, CAPA per RFC 2449,
// STLS per RFC 2595, SASL per RFC 5034) that sends exactly what it is told and
// records every line as a trace Event, plus the transcript formats.
//
// A session is opened with DialSMTP or DialPOP3 (plain, ImplicitTLS or
// StartTLS). SendLine sends one raw line as typed and reads the reply the
// state calls for; the structured helpers (Ehlo, Auth, Mail, Data, Bdat,
// Pipeline; Login, Apop, Retr, ...) build the lines a mail client would and
// take the same path, so the trace never differs from the wire.
//
// The trace:
//   - Every line sent or received is an Event carrying a State snapshot. A
//     reply is recorded with the state it answers (Command is the verb being
//     answered, Phase the phase before the reply moved it on); Multi marks
//     the second and later lines of a multi-line reply or response.
//   - Local events record the connection, TLS handshakes (version, cipher,
//     certificate, verification result, which is computed even with
//     Insecure), timing notes of callers and errors (Err set).
//   - Credentials are masked before they are recorded: "PASS ****", AUTH
//     LOGIN's password response "****", and AUTH PLAIN's payload cut to the
//     base64 of "authzid NUL user NUL" followed by "****" (so the user can
//     still be decoded, State.AuthMech says how). CRAM-MD5 and APOP digests
//     are kept: they are not the password. A base64 line typed after an
//     AUTH the server refused is masked too, and an AUTH PLAIN payload is
//     cut wherever it appears outside message content (even echoed back
//     in a server's error reply).
//   - IdleWatch shows what a server sends unprompted while a line-mode
//     session waits for the user (a 421 before an idle close).
//   - Message content (DATA, BDAT, RETR, TOP and long listings) is the wire
//     and is recorded, but only its first Options.TraceContentLines lines
//     (DefaultTraceContentLines); the rest is counted in one Local note, so
//     that a 2 MB message costs a few hundred events, not forty thousand.
//     Response.Lines keeps the whole message up to Options.MaxMessage.
//
// Bad input never hangs or panics a session: every read has a deadline
// (Options.ReplyTimeout) and the context cancels it; lines are bounded
// (MaxReplyLine, MaxContentLine); malformed replies give a *ProtocolError and
// an error Event, network and TLS failures a *ConnError (IsNetwork).
//
// It imports none of its children: annotate and lab build on it.
package explorer
