// Package annotate is postlab's knowledge base: it turns one trace line of an
// SMTP or POP3 conversation (an explorer.Event, with the session state it
// happened in) into notes that say what the line means and cite the standard.
//
// The knowledge is kept as data tables: the SMTP commands and reply codes of
// RFC 5321 (§4.1, §4.2), the enhanced mail system status codes of RFC 3463
// with the later additions of the IANA "SMTP Enhanced Status Codes" registry,
// the SMTP service extensions and SASL mechanisms announced after EHLO, and
// the POP3 commands, capabilities and response codes of RFC 1939, RFC 2449
// and RFC 5034. Every row carries a reference ("RFC 5321 §4.1.1.4") so a
// learner can read the source; tests check that every row has one.
//
// Notes are contextual: a 354 reply is explained as the invitation to send
// the message because the State says it answers DATA, a 334 inside AUTH LOGIN
// has its base64 challenge decoded, and a 4xx/5xx reply says what a real mail
// client does next (retry later, or bounce the message to its sender).
package annotate
