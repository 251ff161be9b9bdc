package tui

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"postlab/explorer"
)

// benchLines makes n trace lines, every 7th long enough to wrap at 80 columns.
func benchLines(n int) []Entry {
	es := make([]Entry, n)
	for i := range es {
		line := fmt.Sprintf("250-line %d of a long session [127.0.0.1]", i)
		if i%7 == 0 {
			line += " " + strings.Repeat("wrapped text ", 12)
		}
		dir := explorer.ServerToClient
		if i%3 == 0 {
			dir = explorer.ClientToServer
		}
		es[i] = Entry{Event: explorer.Event{Dir: dir, TLS: i%2 == 0, Line: line}}
	}
	return es
}

func benchView(b *testing.B, m *TraceModel) (*TraceView, tcell.Screen) {
	sim := tcell.NewSimulationScreen("UTF-8")
	if err := sim.Init(); err != nil {
		b.Fatal(err)
	}
	sim.SetSize(80, 24)
	v := NewTraceView(m, newTheme(false))
	v.SetRect(0, 0, 80, 24)
	return v, sim
}

// BenchmarkTraceAppend is the cost of one line arriving (ring full, so
// every append also evicts).
func BenchmarkTraceAppend(b *testing.B) {
	m := NewTraceModel(DefaultTraceCapacity, nil)
	lines := benchLines(1024)
	m.Append(benchLines(DefaultTraceCapacity)...)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Append(lines[i%len(lines)])
	}
}

// BenchmarkTraceRender100k draws one 80x24 frame of a 100,000-line trace
// following the newest line.
func BenchmarkTraceRender100k(b *testing.B) {
	m := NewTraceModel(DefaultTraceCapacity, nil)
	m.Append(benchLines(100_000)...)
	v, sim := benchView(b, m)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v.Draw(sim)
	}
}

// BenchmarkTraceScroll100k is one PgUp/PgDn through a 100,000-line trace
// plus the frame it causes (a jump to the top every 500 pages).
func BenchmarkTraceScroll100k(b *testing.B) {
	m := NewTraceModel(DefaultTraceCapacity, nil)
	m.Append(benchLines(100_000)...)
	v, sim := benchView(b, m)
	pgdn := tcell.NewEventKey(tcell.KeyPgDn, 0, tcell.ModNone)
	handler := v.InputHandler()
	m.Select(0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%500 == 0 {
			m.Select(0)
		}
		handler(pgdn, func(tview.Primitive) {})
		v.Draw(sim)
	}
}

// BenchmarkTraceAppendAndRender is a live session at full speed: a line
// arrives and a frame is drawn, on a 100,000-line trace.
func BenchmarkTraceAppendAndRender(b *testing.B) {
	m := NewTraceModel(DefaultTraceCapacity, nil)
	m.Append(benchLines(100_000)...)
	lines := benchLines(1024)
	v, sim := benchView(b, m)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Append(lines[i%len(lines)])
		v.Draw(sim)
	}
}

// BenchmarkTraceMemory100k reports the heap a full 100,000-line trace
// holds (B/line), the bound the ring keeps however long a session runs.
func BenchmarkTraceMemory100k(b *testing.B) {
	lines := benchLines(1024)
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		m := NewTraceModel(DefaultTraceCapacity, nil)
		for j := 0; j < 2*DefaultTraceCapacity; j++ {
			e := lines[j%len(lines)]
			e.Event.Line = strings.Clone(e.Event.Line)
			m.Append(e)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(m.Len()), "B/line")
		runtime.KeepAlive(m)
	}
}
