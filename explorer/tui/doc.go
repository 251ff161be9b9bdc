// Package tui is postlab's terminal app (tview): the Session screen, where a
// learner runs a real SMTP (RFC 5321) or POP3 (RFC 1939) conversation and
// sees every line explained; the lab's Mailboxes and Server log; Diagnose;
// and Lessons.
//
// Screens are thin: they render models (TraceModel, CommandModel,
// ComposeModel...) that hold the state and are tested without a screen, and
// they reach the rest of postlab through small interfaces (Dialer, Session,
// MailboxSource, TraceSource, Diagnoser, Lab) so that cmd/postlab wires the
// real packages and tests wire fakes. Network work runs in goroutines and
// reaches the UI only through Application.QueueUpdateDraw; text that came
// from a server is drawn verbatim or passed through tview.Escape, so
// "EHLO [127.0.0.1]" keeps its brackets.
package tui
