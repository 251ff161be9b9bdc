// Package pop3d is the lab's POP3 server: RFC 1939 (the protocol, its three
// states and the UPDATE rule that deletions happen only at QUIT), RFC 2449
// (CAPA and extended response codes such as [IN-USE]), RFC 3206 ([AUTH] and
// [SYS/TEMP]), RFC 2595 (STLS and no plaintext passwords before TLS) and
// RFC 5034 / RFC 1734 (SASL AUTH, here PLAIN).
//
// Before TLS every login is refused with -ERR [AUTH] ... use STLS first,
// unless Config.AllowInsecureAuth: USER/PASS and AUTH PLAIN because they
// send the password, APOP because the mailbox would then travel in clear
// and an MD5 digest of a recorded timestamp can be attacked offline. CAPA
// offers only what the connection accepts (USER and SASL PLAIN appear after
// STLS). The greeting still carries the APOP timestamp (RFC 1939 §7), as
// it is not sent again after STLS; APOP works once TLS is up.
//
// A session moves through the states of RFC 1939:
//
//	S: +OK mail.postlab.test POP3 server ready <4711.1732590000.1@mail.postlab.test>
//	C: STLS                                   AUTHORIZATION (RFC 2595 §4)
//	S: +OK Begin TLS negotiation
//	   ... TLS handshake; the client asks for CAPA again ...
//	C: USER alice
//	S: +OK send PASS
//	C: PASS wonderland                        (traced as "PASS ****")
//	S: +OK alice's maildrop has 2 messages (4096 octets)
//	C: RETR 1                                 TRANSACTION (RFC 1939 §5)
//	S: +OK 1200 octets
//	S: ...the message, lines starting with "." sent as ".."...
//	S: .
//	C: DELE 1                                 only marks the message
//	S: +OK message 1 deleted
//	C: QUIT                                   UPDATE (RFC 1939 §6): now it is removed
//	S: +OK mail.postlab.test POP3 server signing off (1 message left)
//
// A connection that drops, times out or is cut off by Shutdown never
// reaches UPDATE, so it deletes nothing.
//
// The package is shaped like emersion/go-smtp: a small core backend
// (Authenticator, MaildropStore) with optional add-ons found by type
// assertion (SecretAuthenticator enables APOP), errors that carry the
// response (*Error), one handler per command, and a trace taken at the line
// level so that it shows the plaintext after STLS with credentials masked.
package pop3d
