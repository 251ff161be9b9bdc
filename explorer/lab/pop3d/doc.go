// Package pop3d is the lab's POP3 server: RFC 1939 (the protocol, its three
// states and the UPDATE rule that deletions happen only at QUIT), RFC 2449
// (CAPA and extended response codes such as [IN-USE]), RFC 3206 ([AUTH] and
// [SYS/TEMP]), RFC 2595 (STLS and no plaintext passwords before TLS) and
// RFC 5034 / RFC 1734 (SASL AUTH, here PLAIN).
//
// It is shaped like emersion/go-smtp: a small core backend (Authenticator,
// MaildropStore) with optional add-ons found by type assertion
// (SecretAuthenticator enables APOP), errors that carry the response
// (*Error), one handler per command, and a trace taken at the line level
// so that it shows the plaintext after STLS with credentials masked.
package pop3d
