package diag

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/miekg/dns"
)

// txtServer is an in-process DNS server on 127.0.0.1:0 answering TXT
// queries from a map.
type txtServer struct {
	mu      sync.Mutex
	records map[string]string
	addr    string
}

func startTXTServer(t *testing.T) *txtServer {
	t.Helper()
	s := &txtServer{records: map[string]string{}}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = pc.LocalAddr().String()
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		s.mu.Lock()
		v, ok := s.records[strings.ToLower(q.Name)]
		s.mu.Unlock()
		if !ok {
			m.Rcode = dns.RcodeNameError
		} else if q.Qtype == dns.TypeTXT {
			var chunks []string
			for len(v) > 255 {
				chunks, v = append(chunks, v[:255]), v[255:]
			}
			chunks = append(chunks, v)
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: chunks})
		}
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return s
}

func (s *txtServer) set(name, value string) {
	s.mu.Lock()
	s.records[dns.Fqdn(strings.ToLower(name))] = value
	s.mu.Unlock()
}

func publishRSA(t *testing.T, s *txtServer, sel, domain string) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	s.set(sel+"._domainkey."+domain, "v=DKIM1; k=rsa; p="+base64.StdEncoding.EncodeToString(der))
	return k
}

func publishEd25519(t *testing.T, s *txtServer, sel, domain string) ed25519.PrivateKey {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	s.set(sel+"._domainkey."+domain, "v=DKIM1; k=ed25519; p="+base64.StdEncoding.EncodeToString(pub))
	return priv
}

const headersMessage = "Received: from mx.example.net (mx.example.net [192.0.2.10])\r\n" +
	"\tby mail.example.com (Postfix) with ESMTPS id 4ABC\r\n\tfor <bob@example.com>; Mon, 10 Mar 2025 10:05:00 +0000\r\n" +
	"Received: from out.example.org (out.example.org [198.51.100.5]) by mx.example.net with ESMTP id XYZ; Mon, 10 Mar 2025 10:01:00 +0000\r\n" +
	"Received: from [10.0.0.2] by out.example.org with ESMTPSA id 1; Mon, 10 Mar 2025 10:00:00 +0000\r\n" +
	"From: Alice <alice@example.org>\r\n" +
	"To: bob@example.com\r\n" +
	"Subject: quarterly numbers\r\n" +
	"Date: Mon, 10 Mar 2025 09:59:59 +0000\r\n" +
	"Message-ID: <1@example.org>\r\n" +
	"\r\n" +
	"Hello Bob,\r\nthe numbers are attached.\r\n"

func dkimSign(t *testing.T, msg string, domain, sel string, key crypto.Signer) string {
	t.Helper()
	var out bytes.Buffer
	err := dkim.Sign(&out, strings.NewReader(msg), &dkim.SignOptions{Domain: domain, Selector: sel, Signer: key,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
		HeaderKeys: []string{"From", "To", "Subject", "Date", "Message-ID"}})
	if err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func lookupFor(t *testing.T, s *txtServer) func(string) ([]string, error) {
	t.Helper()
	r, err := NewHeadersResolver(s.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return r.LookupTXT
}

func TestHeadersReceivedChain(t *testing.T) {
	rep := AnalyzeHeaders([]byte(headersMessage), HeadersOptions{})
	if rep.ReceivedCount != 3 || len(rep.Hops) != 3 {
		t.Fatalf("hops: %+v", rep.Hops)
	}
	h1, h2, h3 := rep.Hops[0], rep.Hops[1], rep.Hops[2]
	if h1.N != 1 || !strings.HasPrefix(h1.By, "out.example.org") || h1.With != "ESMTPSA" || h1.DelayS != nil {
		t.Errorf("hop 1: %+v", h1)
	}
	if h2.DelayS == nil || *h2.DelayS != 60 || h3.DelayS == nil || *h3.DelayS != 240 {
		t.Errorf("delays: %v %v", h2.DelayS, h3.DelayS)
	}
	if h3.ID != "4ABC" || h3.For != "bob@example.com" || h3.IP != "192.0.2.10" {
		t.Errorf("hop 3: %+v", h3)
	}
	if rep.BiggestDelay == nil || rep.BiggestDelay.N != 3 {
		t.Errorf("biggest delay: %+v", rep.BiggestDelay)
	}
}

func TestHeadersSkewAndBadDate(t *testing.T) {
	msg := "Received: from b by c; Mon, 10 Mar 2025 09:00:00 +0000\r\n" +
		"Received: from x by y; not a date at all\r\n" +
		"Received: from a by b; Mon, 10 Mar 2025 10:00:00 +0000\r\n" +
		"From: a@example.org\r\n\r\nbody\r\n"
	rep := AnalyzeHeaders([]byte(msg), HeadersOptions{})
	w := strings.Join(rep.Warnings, "\n")
	if !strings.Contains(w, "hop 2: the date") {
		t.Errorf("no unparseable-date warning: %q", w)
	}
	for _, h := range rep.Hops {
		if h.DelayS != nil {
			t.Errorf("hop %d got a delay %d despite a bad neighbour", h.N, *h.DelayS)
		}
	}
	msg2 := "Received: from b by c; Mon, 10 Mar 2025 09:00:00 +0000\r\n" +
		"Received: from a by b; Mon, 10 Mar 2025 10:00:00 +0000\r\n\r\n"
	rep = AnalyzeHeaders([]byte(msg2), HeadersOptions{})
	if !strings.Contains(strings.Join(rep.Warnings, " "), "clock skew") || rep.Hops[1].DelayS != nil {
		t.Errorf("skew not reported: %+v %q", rep.Hops, rep.Warnings)
	}
}

func TestHeadersDKIMAgainstDNS(t *testing.T) {
	s := startTXTServer(t)
	key := publishRSA(t, s, "sel1", "example.org")
	edKey := publishEd25519(t, s, "ed", "example.org")
	signed := dkimSign(t, headersMessage, "example.org", "sel1", key)
	signed = dkimSign(t, signed, "example.org", "ed", edKey)
	lookup := lookupFor(t, s)

	rep := AnalyzeHeaders([]byte(signed), HeadersOptions{LookupTXT: lookup})
	if len(rep.DKIM) != 2 {
		t.Fatalf("dkim: %+v", rep.DKIM)
	}
	for _, d := range rep.DKIM {
		if d.Result != "pass" || d.Domain != "example.org" {
			t.Errorf("good signature: %+v", d)
		}
	}

	// The body changed after signing (a list footer).
	changed := strings.Replace(signed, "attached.", "attached.\r\n-- \r\nSent via the list", 1)
	rep = AnalyzeHeaders([]byte(changed), HeadersOptions{LookupTXT: lookup})
	for _, d := range rep.DKIM {
		if d.Result != "fail" || !strings.Contains(d.Reason, "body was changed") {
			t.Errorf("changed body: %+v", d)
		}
	}
	if !strings.Contains(rep.Summary, "body was changed") {
		t.Errorf("summary does not say why: %q", rep.Summary)
	}

	// A signed header changed.
	changed = strings.Replace(signed, "Subject: quarterly numbers", "Subject: quarterly numbers!", 1)
	rep = AnalyzeHeaders([]byte(changed), HeadersOptions{LookupTXT: lookup})
	if rep.DKIM[0].Result != "fail" || !strings.Contains(rep.DKIM[0].Reason, "header was changed") {
		t.Errorf("changed header: %+v", rep.DKIM[0])
	}

	// No key published.
	other := dkimSign(t, headersMessage, "example.net", "gone", key)
	rep = AnalyzeHeaders([]byte(other), HeadersOptions{LookupTXT: lookup})
	if rep.DKIM[0].Result != "permerror" || !strings.Contains(rep.DKIM[0].Reason, "gone._domainkey.example.net") {
		t.Errorf("missing key: %+v", rep.DKIM[0])
	}
}

// arcSeal adds one ARC set (RFC 8617 §4) with relaxed/relaxed AMS, the way
// an intermediary does.
func arcSeal(t *testing.T, msg string, inst int, cv, domain, sel string, key crypto.Signer, aarText string) string {
	t.Helper()
	raw := []byte(msg)
	fields, bodyAt := splitHeaderFields(raw)
	body := raw[bodyAt:]
	itag := "i=" + itoa(inst)
	aar := "ARC-Authentication-Results: " + itag + "; " + aarText + "\r\n"
	bh := sha256.Sum256(canonBody(body, true))
	ams := "ARC-Message-Signature: " + itag + "; a=" + algOf(key) + "; c=relaxed/relaxed; d=" + domain + "; s=" + sel +
		"; t=1741600000; h=from:to:subject:date:message-id; bh=" + base64.StdEncoding.EncodeToString(bh[:]) + "; b=\r\n"
	h := sha256.New()
	h.Write([]byte(pickHeaders(fields, []string{"from", "to", "subject", "date", "message-id"}, true, nil)))
	h.Write([]byte(strings.TrimSuffix(canonHeader(ams, true), "\r\n")))
	ams = strings.TrimSuffix(ams, "\r\n") + sign(t, key, h.Sum(nil)) + "\r\n"

	as := "ARC-Seal: " + itag + "; a=" + algOf(key) + "; t=1741600000; cv=" + cv + "; d=" + domain + "; s=" + sel + "; b=\r\n"
	all := []arcField{{"ARC-Seal", as}, {"ARC-Message-Signature", ams}, {"ARC-Authentication-Results", aar}}
	all = append(all, fields...)
	sets := map[int]*arcSet{}
	for n, f := range all {
		name := strings.ToLower(f.name)
		if !strings.HasPrefix(name, "arc-") {
			continue
		}
		i := arcInstance(fieldValue(f.raw), name == "arc-authentication-results")
		if sets[i] == nil {
			sets[i] = &arcSet{-1, -1, -1}
		}
		switch name {
		case "arc-seal":
			sets[i].as = n
		case "arc-message-signature":
			sets[i].ams = n
		default:
			sets[i].aar = n
		}
	}
	h = sha256.New()
	h.Write([]byte(arcSealInput(all, sets, inst)))
	as = strings.TrimSuffix(as, "\r\n") + sign(t, key, h.Sum(nil)) + "\r\n"
	return as + ams + aar + msg
}

func itoa(i int) string { return string(rune('0' + i)) }

func algOf(k crypto.Signer) string {
	if _, ok := k.(ed25519.PrivateKey); ok {
		return "ed25519-sha256"
	}
	return "rsa-sha256"
}

func sign(t *testing.T, k crypto.Signer, digest []byte) string {
	t.Helper()
	var opts crypto.SignerOpts = crypto.SHA256
	if _, ok := k.(ed25519.PrivateKey); ok {
		opts = crypto.Hash(0)
	}
	sig, err := k.Sign(rand.Reader, digest, opts)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func TestHeadersARCChain(t *testing.T) {
	s := startTXTServer(t)
	k1 := publishRSA(t, s, "arc1", "lists.example.net")
	k2 := publishEd25519(t, s, "arc2", "forwarder.example.com")
	lookup := lookupFor(t, s)

	m := arcSeal(t, headersMessage, 1, "none", "lists.example.net", "arc1", k1, "lists.example.net; spf=pass smtp.mailfrom=example.org; dkim=pass header.d=example.org")
	m = arcSeal(t, m, 2, "pass", "forwarder.example.com", "arc2", k2, "forwarder.example.com; arc=pass; spf=fail smtp.mailfrom=lists.example.net")

	rep := AnalyzeHeaders([]byte(m), HeadersOptions{LookupTXT: lookup})
	if rep.ARC.Sets != 2 || rep.ARC.Verdict != "pass" {
		t.Fatalf("good chain: %+v", rep.ARC)
	}

	// Broken chain: an intermediary's results were altered after sealing.
	broken := strings.Replace(m, "spf=pass smtp.mailfrom=example.org", "spf=fail smtp.mailfrom=example.org", 1)
	rep = AnalyzeHeaders([]byte(broken), HeadersOptions{LookupTXT: lookup})
	if rep.ARC.Verdict != "fail" || !strings.Contains(rep.ARC.Reason, "ARC-Seal i=") {
		t.Errorf("altered AAR: %+v", rep.ARC)
	}

	// The body changed after the last seal.
	rep = AnalyzeHeaders([]byte(m+"extra\r\n"), HeadersOptions{LookupTXT: lookup})
	if rep.ARC.Verdict != "fail" || !strings.Contains(rep.ARC.Reason, "body was changed") {
		t.Errorf("changed body: %+v", rep.ARC)
	}

	// A missing set.
	cut := m[strings.Index(m, "ARC-Seal: i=1"):]
	cut = strings.Replace(m, "ARC-Seal: i=1", "X-Removed: i=1", 1)
	rep = AnalyzeHeaders([]byte(cut), HeadersOptions{LookupTXT: lookup})
	if rep.ARC.Verdict != "fail" || !strings.Contains(rep.ARC.Reason, "incomplete") {
		t.Errorf("missing seal: %+v", rep.ARC)
	}

	// No ARC at all.
	if rep := AnalyzeHeaders([]byte(headersMessage), HeadersOptions{LookupTXT: lookup}); rep.ARC.Verdict != "none" || rep.ARC.Sets != 0 {
		t.Errorf("no ARC: %+v", rep.ARC)
	}
}

func TestHeadersSummaryDMARC(t *testing.T) {
	msg := "Authentication-Results: mx.google.com;\r\n dkim=fail header.i=@example.org header.s=sel1 header.b=abc;\r\n spf=pass (google.com: domain of a@example.org designates 192.0.2.1 as permitted sender) smtp.mailfrom=a@example.org;\r\n dmarc=fail (p=REJECT sp=REJECT dis=QUARANTINE) header.from=example.org\r\n" +
		"From: a@example.org\r\n\r\nbody\r\n"
	rep := AnalyzeHeaders([]byte(msg), HeadersOptions{})
	if len(rep.AuthResults) != 1 || rep.AuthResults[0].AuthservID != "mx.google.com" || len(rep.AuthResults[0].Results) != 3 {
		t.Fatalf("auth results: %+v", rep.AuthResults)
	}
	for _, want := range []string{"SPF passed at Gmail", "DKIM failed", "DMARC failed", "spam"} {
		if !strings.Contains(rep.Summary, want) {
			t.Errorf("summary %q lacks %q", rep.Summary, want)
		}
	}
}

func TestHeadersResolverUnreachable(t *testing.T) {
	pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	addr := pc.LocalAddr().String()
	pc.Close() // nothing answers here
	r, err := NewHeadersResolver(addr, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := rsa.GenerateKey(rand.Reader, 1024)
	signed := dkimSign(t, headersMessage, "example.org", "sel1", key)
	rep := AnalyzeHeaders([]byte(signed), HeadersOptions{LookupTXT: r.LookupTXT})
	if !r.AllFailed() || rep.DKIM[0].Result != "temperror" || !strings.Contains(rep.DKIM[0].Reason, "could not be fetched") {
		t.Errorf("unreachable resolver: allFailed=%v %+v", r.AllFailed(), rep.DKIM)
	}
}

func TestHeadersHugeHeaderIsBounded(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 20000; i++ {
		b.WriteString("Received: from a by b; Mon, 10 Mar 2025 10:00:00 +0000\r\n")
	}
	b.WriteString("Authentication-Results: x; " + strings.Repeat("spf=pass ", 5000) + "\r\n\r\nbody\r\n")
	rep := AnalyzeHeaders([]byte(b.String()), HeadersOptions{})
	if rep.ReceivedCount > 5001 || len(rep.Hops) == 0 {
		t.Errorf("received count %d", rep.ReceivedCount)
	}
	if len(rep.AuthResults) == 1 && len(rep.AuthResults[0].Results) > 100 {
		t.Errorf("auth results unbounded: %d", len(rep.AuthResults[0].Results))
	}
}

// The example of RFC 8617 Appendix B: three ARC sets by lists.example.org,
// gmail.example and clochette.example.org. Its keys are not published, so
// the chain cannot verify; the structure, the results and the Received
// chain (whose last field is out of order in the RFC) are checked.
func TestHeadersRFC8617Example(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "headers", "rfc8617-example.eml"))
	if err != nil {
		t.Fatal(err)
	}
	rep := AnalyzeHeaders(raw, HeadersOptions{})
	if rep.ARC.Sets != 3 || rep.ARC.Verdict != "none" {
		t.Errorf("arc without DNS: %+v", rep.ARC)
	}
	if len(rep.AuthResults) != 1 || rep.AuthResults[0].AuthservID != "clochette.example.org" {
		t.Fatalf("auth results: %+v", rep.AuthResults)
	}
	got := map[string]string{}
	for _, r := range rep.AuthResults[0].Results {
		got[r.Method] = r.Result
	}
	if got["spf"] != "fail" || got["dkim"] != "fail" || got["dmarc"] != "fail" || got["arc"] != "pass" {
		t.Errorf("results: %v", got)
	}
	if rep.AuthResults[0].Results[0].Props["smtp.from"] != "jqd@d1.example" {
		t.Errorf("props: %+v", rep.AuthResults[0].Results[0].Props)
	}
	if rep.ReceivedCount != 4 || !strings.Contains(strings.Join(rep.Warnings, " "), "clock skew") {
		t.Errorf("received: %d hops, warnings %q", rep.ReceivedCount, rep.Warnings)
	}
	if !strings.Contains(rep.Summary, "DMARC failed: this is why it landed in spam") {
		t.Errorf("summary: %q", rep.Summary)
	}
	if len(rep.DKIM) != 1 || rep.DKIM[0].Domain != "d1.example" || rep.DKIM[0].Selector != "origin2015" {
		t.Errorf("dkim: %+v", rep.DKIM)
	}

	// Against a DNS server that has none of the example's keys.
	s := startTXTServer(t)
	rep = AnalyzeHeaders(raw, HeadersOptions{LookupTXT: lookupFor(t, s)})
	if rep.ARC.Verdict != "fail" || !strings.Contains(rep.ARC.Reason, "clochette._domainkey.clochette.example.org") {
		t.Errorf("arc with DNS: %+v", rep.ARC)
	}
	if rep.DKIM[0].Result != "permerror" {
		t.Errorf("dkim with DNS: %+v", rep.DKIM[0])
	}
}

// Messages saved by mail clients often have bare LF line ends; signatures
// were made over CRLF and must still verify.
func TestHeadersDKIMAndARCWithLFLineEnds(t *testing.T) {
	s := startTXTServer(t)
	key := publishRSA(t, s, "sel1", "example.org")
	arcKey := publishEd25519(t, s, "arc", "lists.example.net")
	m := dkimSign(t, headersMessage, "example.org", "sel1", key)
	m = arcSeal(t, m, 1, "none", "lists.example.net", "arc", arcKey, "lists.example.net; dkim=pass header.d=example.org")
	lf := strings.ReplaceAll(m, "\r\n", "\n")
	rep := AnalyzeHeaders([]byte(lf), HeadersOptions{LookupTXT: lookupFor(t, s)})
	if len(rep.DKIM) != 1 || rep.DKIM[0].Result != "pass" {
		t.Errorf("dkim with LF: %+v", rep.DKIM)
	}
	if rep.ARC.Verdict != "pass" {
		t.Errorf("arc with LF: %+v", rep.ARC)
	}
}

// The summary keeps the receiving server's own reason, given as reason=
// or as the comment after the result (RFC 8601 §2.2).
func TestHeadersSummaryKeepsServerReasons(t *testing.T) {
	msg := "Authentication-Results: mx.google.com; dkim=fail (body hash did not verify) header.i=@example.com; spf=softfail (google.com: domain of x@example.com does not designate 192.0.2.1 as permitted sender) smtp.mailfrom=x@example.com; dmarc=fail (p=REJECT sp=REJECT dis=NONE) header.from=example.com\r\n" +
		"From: x@example.com\r\n\r\nhi\r\n"
	rep := AnalyzeHeaders([]byte(msg), HeadersOptions{})
	for _, want := range []string{"DKIM failed (body hash did not verify)", "does not designate 192.0.2.1", "p=REJECT"} {
		if !strings.Contains(rep.Summary, want) {
			t.Errorf("summary lacks %q: %s", want, rep.Summary)
		}
	}
}

// Delays of 0 s (the resolution of Received dates) are no "biggest delay".
func TestHeadersNoMeasurableDelay(t *testing.T) {
	msg := "Received: from b by c; Mon, 10 Mar 2025 10:00:00 +0000\r\nReceived: from a by b; Mon, 10 Mar 2025 10:00:00 +0000\r\nFrom: x@a\r\n\r\nhi\r\n"
	rep := AnalyzeHeaders([]byte(msg), HeadersOptions{})
	if rep.BiggestDelay != nil || strings.Contains(rep.Summary, "longest delay") {
		t.Errorf("biggest %+v, summary %q", rep.BiggestDelay, rep.Summary)
	}
}

// startRcodeServer answers every query with rcode (REFUSED, SERVFAIL) except
// the names in ok, which are passed to s (nil: none).
func startRcodeServer(t *testing.T, rcode int, s *txtServer, ok ...string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pass := map[string]bool{}
	for _, n := range ok {
		pass[dns.Fqdn(strings.ToLower(n))] = true
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		if pass[strings.ToLower(r.Question[0].Name)] {
			c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
			in, _, err := c.Exchange(r, s.addr)
			if err == nil {
				w.WriteMsg(in)
				return
			}
		}
		m := new(dns.Msg)
		m.SetRcode(r, rcode)
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

// A resolver answering REFUSED or SERVFAIL says nothing about the keys: the
// signatures are temperror (RFC 6376 §6.1.2), not "no key published"
// (permerror), and the ARC chain is not verified rather than failed.
func TestHeadersRefusedIsTemporary(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "headers", "rfc8617-example.eml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range []int{dns.RcodeRefused, dns.RcodeServerFailure} {
		name := dns.RcodeToString[rc]
		r, err := NewHeadersResolver(startRcodeServer(t, rc, nil), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		rep := AnalyzeHeaders(raw, HeadersOptions{LookupTXT: r.LookupTXT})
		if len(rep.DKIM) != 1 || rep.DKIM[0].Result != "temperror" || !strings.Contains(rep.DKIM[0].Reason, name) {
			t.Errorf("%s: dkim %+v", name, rep.DKIM)
		}
		if rep.ARC.Verdict == "fail" || !strings.Contains(rep.ARC.Reason, name) {
			t.Errorf("%s: arc %+v", name, rep.ARC)
		}
		if strings.Contains(rep.Summary, "no DKIM key is published") {
			t.Errorf("%s: summary %q", name, rep.Summary)
		}
		if !r.AllFailed() {
			t.Errorf("%s: AllFailed is false although every lookup was answered %s", name, name)
		}
	}
}

// One seal's key domain answers SERVFAIL, the rest resolves: the chain is
// not verified (not failed); DKIM still passes; a body changed after the
// last seal still fails whatever the DNS says.
func TestHeadersARCTemporaryKeyFailure(t *testing.T) {
	s := startTXTServer(t)
	dk := publishRSA(t, s, "sel1", "example.org")
	k1 := publishRSA(t, s, "arc1", "lists.example.net")
	k2 := publishEd25519(t, s, "arc2", "forwarder.example.com")
	m := dkimSign(t, headersMessage, "example.org", "sel1", dk)
	m = arcSeal(t, m, 1, "none", "lists.example.net", "arc1", k1, "lists.example.net; spf=pass smtp.mailfrom=example.org")
	m = arcSeal(t, m, 2, "pass", "forwarder.example.com", "arc2", k2, "forwarder.example.com; arc=pass")
	addr := startRcodeServer(t, dns.RcodeServerFailure, s, "sel1._domainkey.example.org", "arc2._domainkey.forwarder.example.com")
	r, err := NewHeadersResolver(addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rep := AnalyzeHeaders([]byte(m), HeadersOptions{LookupTXT: r.LookupTXT})
	if rep.ARC.Verdict != "none" || !strings.Contains(rep.ARC.Reason, "arc1._domainkey.lists.example.net") || !strings.Contains(rep.ARC.Reason, "SERVFAIL") {
		t.Errorf("arc: %+v", rep.ARC)
	}
	if len(rep.DKIM) != 1 || rep.DKIM[0].Result != "pass" {
		t.Errorf("dkim: %+v", rep.DKIM)
	}
	if r.AllFailed() {
		t.Error("AllFailed with lookups that succeeded")
	}
	rep = AnalyzeHeaders([]byte(m+"extra\r\n"), HeadersOptions{LookupTXT: r.LookupTXT})
	if rep.ARC.Verdict != "fail" || !strings.Contains(rep.ARC.Reason, "body was changed") {
		t.Errorf("changed body: %+v", rep.ARC)
	}
}

// Input that is no message header says so and reports nothing else; a
// header with a stray line keeps its fields and warns about the line.
func TestHeadersParseError(t *testing.T) {
	garbage := make([]byte, 256)
	for i := range garbage {
		garbage[i] = byte(i*37 + 11)
	}
	for name, in := range map[string]string{
		"empty": "", "blank": "\r\n\r\nbody\r\n", "garbage": string(garbage),
		"text": "just some words\nand more\n", "mbox line only": "From x@y Mon Mar 10 10:00:00 2025\n",
	} {
		rep := AnalyzeHeaders([]byte(in), HeadersOptions{})
		if rep.ParseError == "" || !strings.HasPrefix(rep.Summary, "This does not parse as a message header") || rep.ReceivedCount != 0 {
			t.Errorf("%s: %+v", name, rep)
		}
	}
	rep := AnalyzeHeaders([]byte("From: a@example.org\r\nnot a field\r\nSubject: x\r\n\r\nbody\r\n"), HeadersOptions{})
	if rep.ParseError != "" || !strings.Contains(strings.Join(rep.Warnings, " "), "1 line(s) of the header are not header fields") {
		t.Errorf("stray line: %+v", rep)
	}
	if rep := AnalyzeHeaders([]byte(headersMessage), HeadersOptions{}); rep.ParseError != "" || len(rep.Warnings) != 0 {
		t.Errorf("good header: %+v", rep)
	}
	if r := Troubleshoot([]byte("\r\n\r\n"+headersMessage), HeadersOptions{}); r.Kind != "headers" || r.Headers.ParseError != "" || r.Headers.ReceivedCount != 3 {
		t.Errorf("paste with leading blank lines: %+v", r.Headers)
	}
}
