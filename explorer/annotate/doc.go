// Package annotate is postlab's knowledge base: it turns one trace line of an
// SMTP or POP3 conversation (an explorer.Event, with the session state it
// happened in) into notes that say what the line means and cite the standard.
//
// The knowledge is kept as data tables: the SMTP commands and reply codes of
// RFC 5321 (§4.1, §4.2), the enhanced mail system status codes of RFC 3463
// with every later addition of the IANA "SMTP Enhanced Status Codes"
// registry (RFC 5248), the SMTP service extensions and SASL mechanisms a
// server lists after EHLO, the MAIL/RCPT parameters, the message header
// fields of RFC 5322, and the POP3 commands, states, capabilities and
// response codes of RFC 1939, RFC 2449, RFC 2595, RFC 3206 and RFC 5034.
// Every row carries a reference ("RFC 5321 §4.1.1.4") so a learner can read
// the source; tests check that every row has a well-formed one.
//
// Notes are contextual. A 354 is the invitation to send the message because
// the State says it answers DATA; a 250 after the final "." means the server
// took responsibility for the message (RFC 5321 §4.2.5); a 334 has its
// base64 challenge decoded; a 4xx or 5xx says what a real client does next
// (retry later, or bounce to the sender). What learners trip over is
// explained when it happens: AUTH PLAIN/LOGIN payloads are decoded with the
// password never shown and a warning when they crossed without TLS,
// dot-stuffing, the end of DATA, and header addresses versus the envelope.
//
// Annotate looks at one event alone. An Annotator follows a session line by
// line and also tells message headers from body lines and an AUTH LOGIN
// user name from the password. Suggest lists the commands that make sense
// next, and the lookup functions (ReplyCode, EnhancedCode, Capability,
// SMTPCommand, POP3Command) serve "explain this code" features.
package annotate
