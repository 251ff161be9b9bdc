package annotate

// pop3Commands explains POP3 verbs: RFC 1939 §4-§7 and the extensions.
var pop3Commands = map[string]Entry{
	"USER": {Title: "USER: give the user name", Detail: "First half of the plain login; the password follows with PASS.", Ref: "RFC 1939 §7"},
	"PASS": {Title: "PASS: give the password", Detail: "Second half of the plain login. Without TLS the password crosses the network readably.", Ref: "RFC 1939 §7"},
	"STAT": {Title: "STAT: mailbox status", Detail: "Asks for the number of messages and their total size in octets.", Ref: "RFC 1939 §5"},
	"QUIT": {Title: "QUIT: end the session", Detail: "In the TRANSACTION state QUIT enters UPDATE: messages marked with DELE are really removed, then the connection closes.", Ref: "RFC 1939 §6"},
}

// pop3Caps explains CAPA tags, RFC 2449 §6.
var pop3Caps = map[string]Entry{}
