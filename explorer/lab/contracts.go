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
