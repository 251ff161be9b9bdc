package lablink_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"postlab/explorer"
	"postlab/explorer/lab"
	"postlab/lessons"
	"postlab/lessons/lablink"
)

// How the app wires a lesson to the lab and to its own session: the
// runner sees the student's session from both ends and the lab's mail
// store; a screen redraws from View whenever Subscribe fires.
func Example() {
	dir, _ := os.MkdirTemp("", "postlab-example")
	defer os.RemoveAll(dir)
	l, err := lab.Start(lab.Config{DataDir: dir, SMTP: "127.0.0.1:0", Submission: lab.Off, Submissions: lab.Off,
		POP3: lab.Off, POP3S: lab.Off, DNS: lab.Off})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close(context.Background())

	course, _ := lessons.Builtin()
	model, _ := lessons.NewModel(course, dir) // progress in dir/lessons-progress.json
	model.SetLab(lablink.Mailboxes(l), lablink.Control(l))
	r, _ := model.Open("smtp-by-hand")
	stop := lablink.Feed(r, l)
	defer stop()
	changed := make(chan struct{}, 100)
	r.Subscribe(func() { changed <- struct{}{} }) // a tview screen would QueueUpdateDraw here

	ctx := context.Background()
	addr := l.Addr(lab.ListenerSMTP)
	s, _ := explorer.DialSMTP(ctx, explorer.Options{Addr: addr,
		OnEvent: lablink.SessionObserver(r, lablink.ListenerFor(l, addr))})
	s.SendLine(ctx, "EHLO student.example")
	r.Answer("greet", "220")
	s.SendLine(ctx, "QUIT")

	for deadline := time.Now().Add(10 * time.Second); !r.View().Passed && time.Now().Before(deadline); {
		select {
		case <-changed:
		case <-time.After(10 * time.Millisecond):
		}
	}
	v := r.View()
	fmt.Printf("%s, step %d of %d: %s\n", v.LessonTitle, v.Step+1, len(v.Steps), v.Title)
	for _, c := range v.Checks {
		fmt.Printf("  [%v] %s\n", map[bool]string{true: "x", false: " "}[c.Passed], c.Label)
	}
	fmt.Println("hints left:", v.HintsLeft, "passed:", v.Passed)
	// Output:
	// Your first SMTP session by hand, step 1 of 5: Say hello
	//   [x] EHLO answered with 250
	//   [x] answer: Which reply code did the server greet you with?
	// hints left: 1 passed: true
}
