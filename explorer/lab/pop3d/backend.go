package pop3d

import (
	"errors"
	"io"
)

// Authenticator checks credentials. It is the core interface; a backend that
// can also do challenge-response (APOP, RFC 1939 §7) implements
// SecretAuthenticator as well, detected by type assertion.
type Authenticator interface {
	// Check reports whether password is right for user (already normalised:
	// lower case, local part only).
	Check(user, password string) bool
}

// SecretAuthenticator is the optional add-on for APOP.
type SecretAuthenticator interface {
	// Secret returns the shared secret for user; ok is false when there is none.
	Secret(user string) (secret string, ok bool)
}

// ErrInUse is returned by MaildropStore.Lock when another session holds the
// maildrop ("-ERR [IN-USE]", RFC 2449 §8.1.2).
var ErrInUse = errors.New("pop3d: maildrop in use")

// MaildropStore gives exclusive access to a user's mailbox (RFC 1939 §8:
// the server acquires an exclusive-access lock on the maildrop).
//
// Lock may return ErrInUse (sent as "-ERR [IN-USE]"), an *Error (sent as
// is, e.g. [LOGIN-DELAY] or [SYS/PERM]) or any other error (sent as
// "-ERR [SYS/TEMP]" with the detail kept in the trace).
type MaildropStore interface {
	Lock(user string) (Maildrop, error)
}

// MessageInfo describes one message of a locked maildrop.
type MessageInfo struct {
	UID  string // the Maildir unique name (stable across sessions)
	Size int64  // octets as POP3 counts them (CRLF line ends)
	Seen bool   // already in cur/
}

// Maildrop is a locked snapshot of a mailbox. Message numbers are 1-based
// indexes into Messages(), fixed for the life of the lock (RFC 1939 §5).
type Maildrop interface {
	Messages() []MessageInfo
	// Open returns the message in CRLF form, exactly Size octets.
	Open(uid string) (io.ReadCloser, error)
	// MarkSeen moves a message from new/ to cur/ (after RETR).
	MarkSeen(uid string) error
	// Delete removes messages; called only in the UPDATE state.
	Delete(uids []string) error
	// Unlock releases the maildrop.
	Unlock()
}
