// Package lessons is postlab's course: lessons that teach SMTP (RFC 5321),
// POP3 (RFC 1939) and mail DNS (RFC 5321 §5.1, RFC 7208, RFC 6376, RFC 7489)
// by doing, with every step checked against what the student really did.
//
// A lesson is one Markdown file with front matter and "## Step:" sections
// (the format is documented in FORMAT.md next to this file). A step's checks
// are declarative lines, not Go code, so that teachers can write lessons;
// they are evaluated over a stream of Evidence (client and server trace
// events, DNS queries) and over the lab's mailbox state, which the caller
// feeds in through small interfaces (Mailboxes, LabControl) so that tests can
// fake them and the app can pass the real lab. Lessons name the lab's
// address and ports with placeholders ({{addr.smtp}}, {{port.dns}}),
// replaced by the values of the lab in use (Vars, Lesson.Expand).
//
// The course itself is embedded (course/*.md); Load adds a teacher's own
// directory. A Runner walks one lesson step by step; a Model lists the
// course with progress and persists that progress as JSON in the data dir.
// Neither knows about any UI: they notify listeners when something changes.
package lessons
