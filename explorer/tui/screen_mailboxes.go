package tui

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"net/textproto"
	"strings"
	"sync/atomic"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// mailboxScreen is screen 2: the lab's mailboxes, live.
type mailboxScreen struct {
	a       *App
	root    *tview.Flex
	boxes   *tview.List
	table   *tview.Table
	msg     *tview.TextView
	src     MailboxSource
	cancel  func()
	names   []string
	current string
	msgs    []MessageSummary
	raw     bool
	shownID string
	pending atomic.Bool
	picked  bool   // the user chose a mailbox: new mail does not move the view
	latest  string // the mailbox that got mail last
}

func newMailboxScreen(a *App) *mailboxScreen {
	m := &mailboxScreen{a: a}
	m.boxes = tview.NewList().ShowSecondaryText(false).SetHighlightFullLine(true)
	m.boxes.SetSelectedStyle(a.th.sel).SetMainTextStyle(a.th.base)
	m.boxes.SetBorder(true).SetTitle(" mailboxes ").SetTitleAlign(tview.AlignLeft)
	m.boxes.SetChangedFunc(m.boxChanged)
	m.boxes.SetSelectedFunc(func(int, string, string, rune) { a.tv.SetFocus(m.table) })
	m.table = tview.NewTable().SetSelectable(true, false).SetFixed(1, 0)
	m.table.SetSelectedStyle(a.th.sel)
	m.table.SetBorder(true).SetTitle(" messages ").SetTitleAlign(tview.AlignLeft)
	m.table.SetSelectionChangedFunc(func(row, _ int) { m.showMessage(row - 1) })
	m.table.SetSelectedFunc(func(row, _ int) { a.tv.SetFocus(m.msg) })
	m.msg = tview.NewTextView().SetDynamicColors(true).SetWrap(true)
	m.msg.SetBorder(true).SetTitle(" message (r: raw/parsed) ").SetTitleAlign(tview.AlignLeft)
	right := tview.NewFlex().SetDirection(tview.FlexRow).AddItem(m.table, 0, 1, false).AddItem(m.msg, 0, 1, false)
	m.root = tview.NewFlex().AddItem(m.boxes, 16, 0, true).AddItem(right, 0, 1, false)
	m.root.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		if ev.Key() == tcell.KeyRune && ev.Rune() == 'r' {
			m.raw = !m.raw
			m.shownID = ""
			row, _ := m.table.GetSelection()
			m.showMessage(row - 1)
			return nil
		}
		return ev
	})
	m.setEmpty("The lab is not running: there are no mailboxes to show.")
	return m
}

func (m *mailboxScreen) Name() string          { return "Mailboxes" }
func (m *mailboxScreen) Root() tview.Primitive { return m.root }
func (m *mailboxScreen) Focusables() []tview.Primitive {
	return []tview.Primitive{m.boxes, m.table, m.msg}
}
func (m *mailboxScreen) Hints() []Hint {
	return []Hint{{"Enter", "open", nil}, {"r", "raw/parsed", func() {
		m.raw = !m.raw
		m.shownID = ""
		row, _ := m.table.GetSelection()
		m.showMessage(row - 1)
	}}}
}

// boxChanged follows the user moving in the mailbox list.
func (m *mailboxScreen) boxChanged(i int, _, _ string, _ rune) {
	if i >= 0 && i < len(m.names) {
		m.picked = true
		m.current = m.names[i]
		m.reloadMessages()
	}
}

// Activated re-reads the store: POP3 RETR marks mail read without an event.
func (m *mailboxScreen) Activated() {
	m.shownID = ""
	m.reload()
}

func (m *mailboxScreen) setEmpty(text string) {
	m.msg.SetText(text)
}

// labChanged follows a (re)started lab's store.
func (m *mailboxScreen) labChanged(l Lab) {
	if m.cancel != nil {
		m.cancel()
	}
	m.src = l.Mailboxes()
	if m.src == nil {
		return
	}
	m.cancel = m.src.Subscribe(func(mailbox, id string) {
		if m.pending.CompareAndSwap(false, true) {
			m.a.QueueUpdateDraw(func() {
				m.pending.Store(false)
				m.latest = mailbox
				m.reload()
				m.a.notice("new mail in " + mailbox)
			})
		}
	})
	m.a.mu.Lock()
	m.a.labSubs = append(m.a.labSubs, m.cancel)
	m.a.mu.Unlock()
	m.msg.SetText("Pick a mailbox on the left, then a message. Mail sent to the lab appears here as it arrives; \"outbox\" holds mail addressed outside the lab, which is never sent anywhere.")
	m.reload()
}

// reload refreshes the mailbox list and the current mailbox (UI goroutine).
func (m *mailboxScreen) reload() {
	if m.src == nil {
		return
	}
	m.names = m.src.Mailboxes()
	cur := m.boxes.GetCurrentItem()
	if !m.picked && m.latest != "" {
		// Until the user picks one, show where mail arrived last.
		for i, n := range m.names {
			if n == m.latest {
				cur, m.current = i, n
			}
		}
	}
	m.boxes.SetChangedFunc(nil)
	m.boxes.Clear()
	for _, n := range m.names {
		count := ""
		if msgs, err := m.src.List(n); err == nil {
			unseen := 0
			for _, s := range msgs {
				if !s.Seen {
					unseen++
				}
			}
			count = fmt.Sprintf(" %d", len(msgs))
			if unseen > 0 {
				count = fmt.Sprintf(" %d/%d", unseen, len(msgs))
			}
		}
		m.boxes.AddItem(tview.Escape(n)+count, "", 0, nil)
	}
	if cur >= 0 && cur < len(m.names) {
		m.boxes.SetCurrentItem(cur)
	}
	m.boxes.SetChangedFunc(m.boxChanged)
	if m.current == "" && len(m.names) > 0 {
		m.current = m.names[max(0, m.boxes.GetCurrentItem())]
	}
	m.reloadMessages()
}

func (m *mailboxScreen) reloadMessages() {
	row, _ := m.table.GetSelection()
	m.table.Clear()
	to := "To"
	if m.current == "outbox" {
		to = "To (envelope)" // where it would go: RCPT TO, not the header
	}
	for i, h := range []string{"", "Size", "From", to, "Subject"} {
		m.table.SetCell(0, i, tview.NewTableCell(h).SetSelectable(false).SetStyle(m.a.th.title))
	}
	if m.src == nil || m.current == "" {
		return
	}
	msgs, err := m.src.List(m.current)
	if err != nil {
		m.msg.SetText(tview.Escape(err.Error()))
		return
	}
	m.msgs = msgs
	for i, s := range msgs {
		flag := "new"
		if s.Seen {
			flag = "read"
		}
		cells := []string{flag, size(s.Size), s.From, s.To, s.Subject}
		for j, c := range cells {
			cell := tview.NewTableCell(tview.Escape(sanitize(c))).SetMaxWidth([]int{4, 6, 20, 20, 0}[j])
			if j == 1 {
				cell.SetAlign(tview.AlignRight)
			}
			if j == 4 {
				cell.SetExpansion(1)
			}
			if !s.Seen {
				cell.SetStyle(m.a.th.label)
			}
			m.table.SetCell(i+1, j, cell)
		}
	}
	m.table.SetTitle(fmt.Sprintf(" %s: %s ", tview.Escape(m.current), plural(len(msgs), "message")))
	if row < 1 {
		row = 1
	}
	if row > len(msgs) {
		row = len(msgs)
	}
	if len(msgs) > 0 {
		m.table.Select(row, 0)
		m.showMessage(row - 1)
	} else {
		m.msg.SetText("No messages in " + tview.Escape(m.current) + " yet.")
	}
}

// size is a message's size in one unit from 1000 bytes up, so sizes
// side by side (1013 and 1030 bytes) read alike: 1.0K, 1.0K.
func size(n int64) string {
	switch {
	case n >= 1000<<10:
		return fmt.Sprintf("%.1fM", float64(n)/(1<<20))
	case n >= 1000:
		return fmt.Sprintf("%.1fK", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

func (m *mailboxScreen) showMessage(i int) {
	if m.src == nil || i < 0 || i >= len(m.msgs) {
		return
	}
	id := m.msgs[i].ID
	key := m.current + "/" + id + fmt.Sprint(m.raw)
	if key == m.shownID {
		return
	}
	m.shownID = key
	raw, err := m.src.Raw(m.current, id)
	if err != nil {
		m.msg.SetText(tview.Escape(err.Error()))
		return
	}
	m.msg.SetText(renderMessage(m.a.th, raw, m.raw, m.current == "outbox"))
	m.msg.ScrollToBeginning()
}

// renderMessage shows a message parsed (main headers, then the body) or
// raw, escaped for tview.
func renderMessage(th theme, raw []byte, asRaw, outbox bool) string {
	const limit = 256 << 10 // a big message is cut for display
	cut := ""
	if len(raw) > limit {
		raw, cut = raw[:limit], fmt.Sprintf("\n… (%d more bytes not shown)", len(raw)-limit)
	}
	var b strings.Builder
	if outbox {
		fmt.Fprintf(&b, "%sOutbox: a real server would now look up the recipient domain's MX (RFC 5321 §5.1) and deliver there; the lab keeps it here instead.%s\n\n", th.tag("dim"), th.reset())
	}
	if asRaw {
		b.WriteString(tview.Escape(sanitizeBlock(string(raw))) + cut)
		return b.String()
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		fmt.Fprintf(&b, "%s(headers do not parse: %s)%s\n", th.tag("err"), tview.Escape(err.Error()), th.reset())
		b.WriteString(tview.Escape(sanitizeBlock(string(raw))) + cut)
		return b.String()
	}
	dec := new(mime.WordDecoder)
	for _, k := range []string{"From", "To", "Cc", "Subject", "Date", "Message-Id", "DKIM-Signature", "Received"} {
		for _, v := range msg.Header[textproto.CanonicalMIMEHeaderKey(k)] {
			if k == "DKIM-Signature" {
				v = dkimSummary(v)
			} else {
				v = decodeHeader(dec, v)
			}
			fmt.Fprintf(&b, "%s%s:%s %s\n", th.tag("label"), k, th.reset(), tview.Escape(sanitize(v)))
		}
	}
	body, _ := io.ReadAll(msg.Body)
	b.WriteString("\n" + tview.Escape(sanitizeBlock(string(body))) + cut)
	return b.String()
}

// dkimSummary says who signed (d=, s=, a= of RFC 6376 §3.5) instead of
// the signature's base64; checking it needs DNS, which Troubleshoot does.
func dkimSummary(v string) string {
	tags := map[string]string{}
	for _, t := range strings.Split(v, ";") {
		if k, val, ok := strings.Cut(t, "="); ok {
			tags[strings.TrimSpace(k)] = strings.Join(strings.Fields(val), "")
		}
	}
	if tags["d"] == "" {
		return "present, without d= (not a valid signature)"
	}
	out := "signed by " + tags["d"] + " (selector " + tags["s"]
	if a := tags["a"]; a != "" {
		out += ", " + a
	}
	return out + "); Troubleshoot (6) checks it"
}

// sanitizeBlock sanitizes each line of a multi-line text.
func sanitizeBlock(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = sanitize(l)
	}
	return strings.Join(lines, "\n")
}

func decodeHeader(d *mime.WordDecoder, v string) string {
	if s, err := d.DecodeHeader(v); err == nil {
		return s
	}
	return v
}

// remoteLab says the mailboxes are out of reach while the app uses a
// teacher's lab ("" when it no longer does).
func (m *mailboxScreen) remoteLab(host string) {
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
	m.src = nil
	m.names, m.msgs, m.current = nil, nil, ""
	m.boxes.Clear()
	m.table.Clear()
	m.table.SetTitle(" messages ")
	if host != "" {
		m.setEmpty("Mailboxes are available only with a local lab. This app uses the teacher's lab at " + tview.Escape(host) + ": read your mail with a POP3 session (screen 1) instead.")
	} else {
		m.setEmpty("The lab is not running: there are no mailboxes to show.")
	}
}
