package pop3d

import (
	"errors"
	"fmt"
)

// Error is a negative POP3 response. Code is an RFC 2449 §8 extended
// response code ("IN-USE", "LOGIN-DELAY", "AUTH", "SYS/TEMP", "SYS/PERM") or
// empty; Msg is the human-readable text. A backend may return an *Error from
// MaildropStore.Lock to have its reply sent as is.
type Error struct {
	Code string
	Msg  string
}

// Error returns the response text without the "-ERR " status indicator.
func (e *Error) Error() string {
	if e.Code == "" {
		return e.Msg
	}
	return "[" + e.Code + "] " + e.Msg
}

// Response codes used by the server (RFC 2449 §8.1, RFC 3206 §4-§5).
const (
	CodeInUse      = "IN-USE"      // RFC 2449 §8.1.2: the maildrop is locked by another session
	CodeLoginDelay = "LOGIN-DELAY" // RFC 2449 §8.1.1: logged in too recently
	CodeAuth       = "AUTH"        // RFC 3206 §5: credentials wrong or against policy
	CodeSysTemp    = "SYS/TEMP"    // RFC 3206 §4: a temporary system problem
	CodeSysPerm    = "SYS/PERM"    // RFC 3206 §4: a permanent system problem
)

var (
	errAuthFailed    = &Error{CodeAuth, "invalid user name or password"}
	errAPOPFailed    = &Error{CodeAuth, "permission denied"}
	errPlaintext     = &Error{CodeAuth, "plaintext authentication is disabled on an unencrypted connection; use STLS first"}
	errAPOPPlaintext = &Error{CodeAuth, "APOP is disabled on an unencrypted connection: the mailbox would travel in clear and the digest can be attacked offline; use STLS first"}
	errInUse         = &Error{CodeInUse, "maildrop is locked by another session"}
	errLockFailed    = &Error{CodeSysTemp, "unable to open maildrop"}
	errUnknownCmd    = &Error{"", "unknown command"}
	errSyntax        = &Error{"", "invalid command syntax"}
	errLineTooLong   = &Error{"", "line too long"}
	errWrongState    = &Error{"", "command not valid in this state"}
	errNeedAuth      = &Error{"", "not authenticated; use USER/PASS, APOP or AUTH first"}
	errAuthed        = &Error{"", "already authenticated"}
	errNoMessage     = &Error{"", "no such message"}
	errBadMsgNumber  = &Error{"", "invalid message number"}
	// RFC 3206 §4: a temporary problem; the client may try again later.
	errShuttingDown = &Error{CodeSysTemp, "server shutting down"}
)

// errStopSession ends a session without further response.
var errStopSession = errors.New("pop3d: session stopped")

// errDraining ends a wait for the client because the server shuts down.
var errDraining = errors.New("pop3d: server shutting down")

// CutShortError is returned by Shutdown when sessions were still open as
// its context ended and had to be closed. It unwraps to the context's error.
type CutShortError struct {
	Sessions int
	Err      error
}

func (e *CutShortError) Error() string {
	return fmt.Sprintf("%d session(s) cut short: %v", e.Sessions, e.Err)
}

func (e *CutShortError) Unwrap() error { return e.Err }
