package lab

import (
	"time"

	"postlab/explorer"
)

// ServerEvent is one line of a server-side session trace.
type ServerEvent struct {
	Session  uint64 // unique per accepted connection
	Listener string // "smtp", "submission", "submissions", "pop3", "pop3s", "dns"
	Remote   string // client address
	explorer.Event
}

// TraceSink receives server-side trace events. Credentials must already be
// masked. Implementations must be safe for concurrent use and must not block.
type TraceSink interface {
	Emit(ev ServerEvent)
}

// Clock lets tests control time (idle timeouts, Received dates).
type Clock func() time.Time

// MessageSummary describes one stored message for a mailbox listing.
type MessageSummary struct {
	ID      string    // the Maildir unique name; the POP3 UID
	From    string    // From header, RFC 2047 words decoded
	To      string    // To header, decoded
	Subject string    // Subject header, decoded
	Date    time.Time // Date header, or the delivery time when missing or unparsable
	Size    int64     // octets as stored (CRLF line ends)
	Seen    bool      // in cur/ (read by a POP3 RETR)
	// EnvelopeTo lists the SMTP recipients of an outbox message: the
	// addresses a real server would now look up the MX for (RFC 5321 §5.1).
	EnvelopeTo []string
}

// Listener names, as used by Lab.Addr and ServerEvent.Listener.
const (
	ListenerSMTP        = "smtp"
	ListenerSubmission  = "submission"
	ListenerSubmissions = "submissions"
	ListenerPOP3        = "pop3"
	ListenerPOP3S       = "pop3s"
	ListenerDNS         = "dns"
)

// Outbox is the mailbox that keeps mail submitted for outside addresses.
const Outbox = "outbox"
