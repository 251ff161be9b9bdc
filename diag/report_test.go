package diag

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func sampleReport() *Report {
	return &Report{Target: "example.test", Resolver: "127.0.0.1:53", DurationMS: 12, Findings: []Finding{
		{Check: "mx.records", Status: StatusPass, Summary: "1 MX record", Detail: "10 mx.example.test", Ref: "RFC 5321 §5.1"},
		{Check: "spf.record", Status: StatusFail, Summary: "2 SPF records", Fix: "merge them", Ref: "RFC 7208 §4.5"},
		{Check: "mx.host", Status: StatusWarn, Summary: "MX is a CNAME"},
		{Check: "smtp.banner", Status: StatusInfo, Summary: "a finding a later part adds"},
	}}
}

func TestReportJSONSchema(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b.Bytes(), &top); err != nil {
		t.Fatal(err)
	}
	if got := keys(top); !reflect.DeepEqual(got, []string{"duration_ms", "findings", "resolver", "target"}) {
		t.Fatalf("top-level keys %v", got)
	}
	var fs []map[string]json.RawMessage
	json.Unmarshal(top["findings"], &fs)
	if len(fs) != 4 {
		t.Fatalf("%d findings", len(fs))
	}
	for _, f := range fs {
		if got := keys(f); !reflect.DeepEqual(got, []string{"check", "detail", "fix", "ref", "status", "summary"}) {
			t.Fatalf("finding keys %v", got)
		}
	}
	if string(fs[1]["status"]) != `"fail"` || string(fs[0]["ref"]) != `"RFC 5321 §5.1"` {
		t.Errorf("values: %s %s", fs[1]["status"], fs[0]["ref"])
	}
	r := sampleReport()
	r.Extra = map[string]any{"probes": []string{"trace"}}
	var ext bytes.Buffer
	if err := r.WriteJSON(&ext); err != nil || !strings.Contains(ext.String(), `"probes": [`) || !strings.Contains(ext.String(), `"duration_ms": 12`) {
		t.Errorf("extra: %v\n%s", err, ext.String())
	}
	r.Extra = map[string]any{"findings": 1}
	if err := r.WriteJSON(&ext); err == nil {
		t.Error("a clashing extra key was accepted")
	}
	var empty bytes.Buffer
	(&Report{Target: "x"}).WriteJSON(&empty)
	if !strings.Contains(empty.String(), `"findings": []`) {
		t.Errorf("no findings should be [], got %s", empty.String())
	}
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestReportText(t *testing.T) {
	r := sampleReport()
	var plain, colored bytes.Buffer
	r.WriteText(&plain, false)
	r.WriteText(&colored, true)
	p := plain.String()
	if strings.Contains(p, "\x1b[") {
		t.Error("plain report contains escape sequences")
	}
	if !strings.Contains(colored.String(), "\x1b[") {
		t.Error("colored report has no escape sequences")
	}
	first := strings.SplitN(p, "\n", 2)[0]
	if first != "example.test: PROBLEMS — 1 failed, 1 warning, 1 info, 1 passed" {
		t.Errorf("verdict line %q", first)
	}
	// Grouped by area in order of first appearance: the MX warning joins the MX group.
	iMX, iHost, iSPF, iSMTP := strings.Index(p, "MX (RFC"), strings.Index(p, "MX is a CNAME"), strings.Index(p, "SPF (RFC"), strings.Index(p, "SMTP\n")
	if !(iMX < iHost && iHost < iSPF && iSPF < iSMTP) {
		t.Errorf("grouping wrong:\n%s", p)
	}
	for _, want := range []string{"  FAIL  2 SPF records", "fix: merge them", "ref: RFC 7208 §4.5", "        10 mx.example.test"} {
		if !strings.Contains(p, want) {
			t.Errorf("report lacks %q:\n%s", want, p)
		}
	}
	if !r.Failed() {
		t.Error("Failed() = false with a fail finding")
	}
	r.Findings = r.Findings[:1]
	if r.Failed() || !strings.HasSuffix(r.Verdict(), "OK — 1 passed") {
		t.Errorf("Failed=%v verdict %q", r.Failed(), r.Verdict())
	}
}

// Counts are plural where they should be, and every finding names its
// standard in JSON, the failed lookups included.
func TestReportWordingAndRefs(t *testing.T) {
	r := &Report{Target: "example.test", Findings: []Finding{
		{Check: "mx.lookup", Status: StatusError, Summary: "MX lookup did not finish"},
		{Check: "spf.timeout", Status: StatusError, Summary: "the spf check did not finish"},
		{Check: "dmarc.record", Status: StatusWarn, Summary: "p=none", Ref: "RFC 7489 §6.3"},
		{Check: "dkim.lookup", Status: StatusWarn, Summary: "no key"},
		{Check: "weird.thing", Status: StatusError, Summary: "x"},
	}}
	if v := r.Verdict(); v != "example.test: INCOMPLETE — 3 errors, 2 warnings" {
		t.Errorf("verdict %q", v)
	}
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got struct{ Findings []Finding }
	json.Unmarshal(b.Bytes(), &got)
	want := []string{"RFC 5321 §5.1", "RFC 7208", "RFC 7489 §6.3", "RFC 6376", "RFC 1035"}
	for i, f := range got.Findings {
		if f.Ref != want[i] {
			t.Errorf("%s: ref %q, want %q", f.Check, f.Ref, want[i])
		}
	}
	if r.Findings[0].Ref != "" {
		t.Error("WriteJSON changed the report")
	}
	b.Reset()
	r.WriteText(&b, false)
	if !strings.Contains(b.String(), "ref: RFC 5321 §5.1") {
		t.Errorf("text lacks the ref:\n%s", b.String())
	}
}
