package tui

import (
	"context"
	"crypto/x509"
	"errors"
	"time"

	"postlab/explorer"
)

// Session is one live client conversation (SMTP or POP3).
type Session interface {
	// SendLine sends exactly one typed line and returns once the session
	// has read what the protocol says follows it (a reply, or nothing
	// inside DATA). Events arrive through the Dialer's callback.
	SendLine(ctx context.Context, line string) error
	// State is the protocol state after the last exchange.
	State() explorer.State
	// Caps are the capabilities the server announced (EHLO keywords, CAPA tags).
	Caps() []string
	Close() error
}

// Dialer opens a Session to t and reports every trace event to events, from
// the connection on (including the greeting and TLS handshake notes).
// events may be called from any goroutine.
type Dialer func(ctx context.Context, t Target, events func(explorer.Event)) (Session, error)

// Annotator explains one event (annotate.Annotate in the real app).
type Annotator func(ev explorer.Event) []explorer.Note

// Suggestion is one entry of the palette of next sensible commands.
type Suggestion struct {
	Command string // the line to put on the command line
	Why     string // one short reason
}

// Suggester proposes the next commands for a state (annotate.Suggest).
type Suggester func(st explorer.State, caps []string) []Suggestion

// MessageSummary is one message of a lab mailbox.
type MessageSummary struct {
	ID      string
	From    string
	To      string
	Subject string
	Date    time.Time
	Size    int64
	Seen    bool
}

// MailboxSource is the lab's message store, read-only.
type MailboxSource interface {
	Mailboxes() []string
	List(mailbox string) ([]MessageSummary, error)
	Raw(mailbox, id string) ([]byte, error)
	// Subscribe calls fn (from any goroutine) when a message arrives.
	Subscribe(fn func(mailbox, id string)) (cancel func())
}

// ServerLine is one line of a lab server-side session trace.
type ServerLine struct {
	Session  uint64
	Listener string
	Remote   string
	Event    explorer.Event
}

// TraceSource is the lab's live server-side traces.
type TraceSource interface {
	Subscribe(fn func(ServerLine)) (cancel func())
	Recent(n int) []ServerLine
}

// Finding is one result of a diagnosis (mirrors diag.Finding).
type Finding struct {
	Check   string
	Status  string // "ok", "warn", "fail", "info", "skip"
	Summary string
	Detail  string
	Fix     string
	Ref     string
}

// Report is a finished diagnosis (mirrors diag.Report).
type Report struct {
	Target     string
	Resolver   string
	DurationMS int64
	Findings   []Finding
}

// Diagnoser runs the checks for a domain or address, reporting each finding
// to progress as it completes (progress may be called from any goroutine).
type Diagnoser interface {
	Diagnose(ctx context.Context, target string, progress func(Finding)) (Report, error)
}

// Lab is the in-process practice lab as the app sees it.
type Lab interface {
	// Addr is the listening address of "smtp", "submission",
	// "submissions", "pop3", "pop3s" or "dns" ("" when off).
	Addr(listener string) string
	CertPool() *x509.CertPool
	Mailboxes() MailboxSource
	Traces() TraceSource
	Close(ctx context.Context) error
}

// LabStarter starts the lab; freePorts asks for 127.0.0.1:0 listeners.
// An error wrapping ErrPortTaken makes the app offer free ports.
type LabStarter func(freePorts bool) (Lab, error)

// ErrPortTaken marks a lab start that failed because a port is in use.
var ErrPortTaken = errors.New("port taken")
