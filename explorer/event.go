package explorer

import "time"

// Direction says which way a line travelled.
type Direction string

const (
	ClientToServer Direction = "c2s"  // a line the client sent
	ServerToClient Direction = "s2c"  // a line the server sent
	Local          Direction = "note" // something observed locally (TLS handshake, timing, error)
)

// Protocol names the dialect of a session.
type Protocol string

const (
	SMTP Protocol = "smtp"
	POP3 Protocol = "pop3"
)

// Phase is where a session stands in its protocol's state machine.
// SMTP follows RFC 5321 §3 and §4.1.4; POP3 follows RFC 1939 §3.
type Phase string

const (
	PhaseConnect Phase = "connect"       // TCP/TLS up, no greeting yet
	PhaseGreeted Phase = "greeted"       // SMTP: 220 seen, no EHLO/HELO yet
	PhaseReady   Phase = "ready"         // SMTP: after EHLO/HELO (or RSET/end of a transaction)
	PhaseMail    Phase = "mail"          // SMTP: MAIL accepted, no RCPT accepted yet
	PhaseRcpt    Phase = "rcpt"          // SMTP: at least one RCPT accepted
	PhaseData    Phase = "data"          // SMTP: after 354 (or during BDAT), sending message content
	PhaseAuth    Phase = "auth"          // SMTP or POP3: inside a SASL exchange (334 / "+ " continuations)
	PhaseTLS     Phase = "tls"           // STARTTLS/STLS accepted, handshake in progress
	PhaseAuthz   Phase = "authorization" // POP3 AUTHORIZATION state
	PhaseTrans   Phase = "transaction"   // POP3 TRANSACTION state
	PhaseUpdate  Phase = "update"        // POP3 UPDATE state (after QUIT in TRANSACTION)
	PhaseClosed  Phase = "closed"
)

// State is a snapshot of the session state at the moment of an Event, so that
// an annotation can be contextual (354 after DATA, 334 inside AUTH LOGIN, ...).
type State struct {
	Proto    Protocol `json:"proto"`
	Phase    Phase    `json:"phase"`
	TLS      bool     `json:"tls"`                 // the connection is encrypted
	Command  string   `json:"command,omitempty"`   // verb of the last command sent, upper case (for replies: the command being answered)
	AuthMech string   `json:"auth_mech,omitempty"` // SASL mechanism in progress or used
	Authed   bool     `json:"authed,omitempty"`    // authentication succeeded
	// Multi is true for a server line that belongs to a multi-line reply or
	// response (SMTP "250-" continuation lines, POP3 lines after "+OK" of LIST/RETR...).
	Multi bool `json:"multi,omitempty"`
}

// Event is one line of a conversation, or one local observation.
type Event struct {
	Time  time.Time `json:"t"`
	Dir   Direction `json:"dir"`
	TLS   bool      `json:"tls"`
	Line  string    `json:"line"` // without the CRLF; credentials already masked where the recorder knows them
	State State     `json:"state"`
	Err   bool      `json:"err,omitempty"` // a local error (network, TLS, protocol violation)
}

// Note explains one Event: what it is and where the standard says so.
type Note struct {
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Ref    string `json:"ref"` // e.g. "RFC 5321 §4.1.1.4"
}
