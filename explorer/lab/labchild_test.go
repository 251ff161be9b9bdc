package lab_test

// A second lab process on one data dir (a crash, a lock held elsewhere) is
// this test binary run again: the parent runs only the child's test, which
// serves a lab while an environment variable names the data dir.

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"postlab/explorer/lab"
)

// labChild starts the child lab: testName is the test that serves it (with
// serveLabChild), envVar carries dir to it, and prefix starts the lines it
// prints. It returns the child, killed at cleanup, and the address it serves.
func labChild(t *testing.T, dir, testName, envVar, prefix string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+testName+"$", "-test.count=1", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), envVar+"="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), prefix) {
				lines <- sc.Text()
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case line := <-lines:
		addr, ok := strings.CutPrefix(line, prefix+"ADDR ")
		if !ok {
			t.Fatalf("child: %s", line)
		}
		return cmd, addr
	case <-time.After(30 * time.Second):
		t.Fatal("the child lab did not start")
	}
	return nil, ""
}

// serveLabChild is the child's side of labChild: with envVar set, it
// serves the lab that cfg makes of the data dir, prints the address of
// listener, and exits when the parent closes stdin or kills it. Without
// envVar it skips: a normal run has nothing to serve.
func serveLabChild(t *testing.T, envVar, prefix, listener string, cfg func(dir string) lab.Config) {
	dir := os.Getenv(envVar)
	if dir == "" {
		t.Skip("the child lab of another test; runs when " + envVar + " is set")
	}
	l, err := lab.Start(cfg(dir))
	if err != nil {
		fmt.Printf("%sERROR %v\n", prefix, err)
		os.Exit(1)
	}
	fmt.Printf("%sADDR %s\n", prefix, l.Addr(listener))
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}
