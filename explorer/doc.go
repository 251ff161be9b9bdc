// Package explorer is postlab's protocol core: a client session for SMTP
// (RFC 5321, with STARTTLS per RFC 3207, AUTH per RFC 4954, CHUNKING per
// RFC 3030, PIPELINING per RFC 2920) and POP3 (RFC 1939, CAPA per RFC 2449,
// STLS per RFC 2595, SASL per RFC 5034) that sends exactly what it is told and
// records every line as a trace Event, plus the transcript formats.
//
// It imports none of its children: annotate and lab build on it.
package explorer
