package annotate

import "postlab/explorer"

// pop3Cmd is a POP3 command with the states it is valid in (RFC 1939 §3).
type pop3Cmd struct {
	Entry
	states []explorer.Phase
}

var (
	authz = []explorer.Phase{explorer.PhaseAuthz}
	trans = []explorer.Phase{explorer.PhaseTrans}
	both  = []explorer.Phase{explorer.PhaseAuthz, explorer.PhaseTrans}
)

// pop3Table explains POP3 verbs: RFC 1939 §4-§7 and the extensions
// (CAPA RFC 2449, STLS RFC 2595, AUTH RFC 5034 which replaced RFC 1734).
var pop3Table = map[string]pop3Cmd{
	"USER": {Entry{Title: "USER: give the user name", Detail: "First half of the plain login; PASS with the password follows. Without TLS both cross the network readably.", Ref: "RFC 1939 §7"}, authz},
	"PASS": {Entry{Title: "PASS: give the password", Detail: "Second half of the plain login, right after USER. On success the server locks the mailbox and the session enters the TRANSACTION state.", Ref: "RFC 1939 §7"}, authz},
	"APOP": {Entry{Title: "APOP: login with a digest", Detail: "Sends the user name and MD5(greeting timestamp + password) so the password itself never crosses the wire. Needs a <...> timestamp in the greeting; MD5 is weak today, TLS is the better protection.", Ref: "RFC 1939 §7"}, authz},
	"AUTH": {Entry{Title: "AUTH: SASL login", Detail: "Logs in with a SASL mechanism (PLAIN, SCRAM-SHA-256, XOAUTH2...); the server answers '+ ' challenges in base64 until +OK or -ERR.", Ref: "RFC 5034 §4"}, authz},
	"STLS": {Entry{Title: "STLS: switch to TLS", Detail: "Asks to upgrade this connection to TLS before logging in. After +OK the TLS handshake starts; the client should send CAPA again afterwards.", Ref: "RFC 2595 §4"}, authz},
	"CAPA": {Entry{Title: "CAPA: list capabilities", Detail: "Asks which optional features the server has (TOP, UIDL, SASL, STLS...). Valid in the AUTHORIZATION and TRANSACTION states; the list may change after login or STLS.", Ref: "RFC 2449 §5"}, both},
	"STAT": {Entry{Title: "STAT: mailbox status", Detail: "Asks for the number of messages and their total size in octets ('+OK 2 320'). Messages marked for deletion are not counted.", Ref: "RFC 1939 §5"}, trans},
	"LIST": {Entry{Title: "LIST: message sizes", Detail: "Without an argument lists every message as 'number size', ending with a line holding '.'; with a number, answers for that message only.", Ref: "RFC 1939 §5"}, trans},
	"RETR": {Entry{Title: "RETR: download a message", Detail: "Sends the whole message (headers, blank line, body) as a multi-line response ending with '.'. Lines beginning with a dot arrive with the dot doubled.", Ref: "RFC 1939 §5"}, trans},
	"DELE": {Entry{Title: "DELE: mark a message for deletion", Detail: "Marks the message as deleted. It is really removed only when QUIT ends the session (UPDATE state); RSET or a dropped connection keeps it.", Ref: "RFC 1939 §5"}, trans},
	"NOOP": {Entry{Title: "NOOP: do nothing", Detail: "The server just answers +OK; used to keep the connection alive.", Ref: "RFC 1939 §5"}, trans},
	"RSET": {Entry{Title: "RSET: undo deletions", Detail: "Unmarks every message marked with DELE in this session.", Ref: "RFC 1939 §5"}, trans},
	"QUIT": {Entry{Title: "QUIT: end the session", Detail: "In the TRANSACTION state QUIT enters UPDATE: messages marked with DELE are removed, then the connection closes. Before login it just closes.", Ref: "RFC 1939 §6"}, both},
	"TOP":  {Entry{Title: "TOP: headers and first lines", Detail: "TOP n k sends the headers of message n and the first k lines of its body; handy to preview without downloading it all.", Ref: "RFC 1939 §7"}, trans},
	"UIDL": {Entry{Title: "UIDL: unique message ids", Detail: "Lists a unique id per message that stays the same across sessions (message numbers do not): how 'leave mail on server' clients know what they already downloaded.", Ref: "RFC 1939 §7"}, trans},
	"UTF8": {Entry{Title: "UTF8: enable UTF-8 mode", Detail: "Tells the server the client accepts UTF-8 in user names and messages.", Ref: "IANA POP3 Extension Mechanism (RFC 6856)"}, authz},
	"LANG": {Entry{Title: "LANG: choose the language of replies", Detail: "Lists or selects the language of the server's human-readable texts.", Ref: "IANA POP3 Extension Mechanism (RFC 6856)"}, both},
}

// pop3Commands is the plain view of pop3Table for lookups.
var pop3Commands = func() map[string]Entry {
	m := make(map[string]Entry, len(pop3Table))
	for k, v := range pop3Table {
		m[k] = v.Entry
	}
	return m
}()

// pop3Caps explains CAPA tags: RFC 2449 §6 and the IANA "POP3 Extension
// Mechanism" registry.
var pop3Caps = map[string]Entry{
	"TOP":            {Title: "CAPA TOP", Detail: "The TOP command is available to fetch headers and the first lines of a message.", Ref: "RFC 2449 §6.1"},
	"USER":           {Title: "CAPA USER", Detail: "Plain USER/PASS login is available (on this connection: if it lacks TLS, the password would cross unencrypted).", Ref: "RFC 2449 §6.2"},
	"SASL":           {Title: "CAPA SASL", Detail: "AUTH is available with the listed SASL mechanisms.", Ref: "RFC 2449 §6.3"},
	"RESP-CODES":     {Title: "CAPA RESP-CODES", Detail: "-ERR replies may carry a [CODE] in brackets saying why, e.g. [IN-USE] or [AUTH].", Ref: "RFC 2449 §6.4"},
	"LOGIN-DELAY":    {Title: "CAPA LOGIN-DELAY", Detail: "The minimum number of seconds after a login before the next one is accepted; logging in sooner may be refused with [LOGIN-DELAY]. Mail programs should not check more often.", Ref: "RFC 2449 §6.5"},
	"PIPELINING":     {Title: "CAPA PIPELINING", Detail: "The client may send several commands without waiting for each response.", Ref: "RFC 2449 §6.6"},
	"EXPIRE":         {Title: "CAPA EXPIRE", Detail: "The fewest days the server keeps messages left on it (NEVER: it never deletes them; 0: mail may not be left on the server, and downloaded messages may be deleted at QUIT).", Ref: "RFC 2449 §6.7"},
	"UIDL":           {Title: "CAPA UIDL", Detail: "The UIDL command is available: stable unique ids per message.", Ref: "RFC 2449 §6.8"},
	"IMPLEMENTATION": {Title: "CAPA IMPLEMENTATION", Detail: "The server software's name, for information only.", Ref: "RFC 2449 §6.9"},
	"STLS":           {Title: "CAPA STLS", Detail: "STLS is available to switch this connection to TLS before logging in.", Ref: "RFC 2595 §4"},
	"AUTH-RESP-CODE": {Title: "CAPA AUTH-RESP-CODE", Detail: "Failed logins say why with [AUTH] (wrong credentials) or [SYS/...] (server trouble).", Ref: "IANA POP3 Extension Mechanism (RFC 3206)"},
	"UTF8":           {Title: "CAPA UTF8", Detail: "The UTF8 command is available for internationalized user names and messages.", Ref: "IANA POP3 Extension Mechanism (RFC 6856)"},
	"LANG":           {Title: "CAPA LANG", Detail: "The LANG command is available to choose the language of replies.", Ref: "IANA POP3 Extension Mechanism (RFC 6856)"},
}

// pop3RespCodes explains the [CODE] of a -ERR reply (RFC 2449 §8).
var pop3RespCodes = map[string]Entry{
	"IN-USE":      {Title: "[IN-USE] mailbox locked", Detail: "Another session (often another mail program on your phone or PC) holds the mailbox. Retry later; the password was fine.", Ref: "RFC 2449 §8.1.2"},
	"LOGIN-DELAY": {Title: "[LOGIN-DELAY] too soon", Detail: "You logged in again sooner than the server allows (see CAPA LOGIN-DELAY). Wait and retry; do not ask for a new password.", Ref: "RFC 2449 §8.1.1"},
	"SYS/TEMP":    {Title: "[SYS/TEMP] temporary server problem", Detail: "The server has a temporary problem unrelated to your credentials; retry later.", Ref: "RFC 3206 §4"},
	"SYS/PERM":    {Title: "[SYS/PERM] permanent server problem", Detail: "The server has a problem that will not go away by retrying; contact its administrator.", Ref: "RFC 3206 §4", Permanent: true},
	"AUTH":        {Title: "[AUTH] credentials refused", Detail: "The user name or password (or mechanism) was wrong; ask the user for them again.", Ref: "RFC 3206 §5", Permanent: true},
	"UTF8":        {Title: "[UTF8] UTF-8 required", Detail: "The message needs UTF-8 mode; send the UTF8 command first.", Ref: "IANA POP3 Extension Mechanism (RFC 6856)"},
}
