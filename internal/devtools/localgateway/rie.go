package localgateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// InvokePath is the Lambda Invoke API path RIE serves for its one function.
const InvokePath = "/2015-03-31/functions/function/invocations"

// InstanceConfig says how to start one emulated function.
type InstanceConfig struct {
	Name      string   // function name, prefixed to its log lines
	RIE       string   // path to aws-lambda-rie
	Bootstrap string   // path to the function's bootstrap
	Dir       string   // working directory (Lambda's /var/task)
	Env       []string // the whole environment of RIE, which passes it on
	Log       io.Writer
	// Verbose keeps RIE's per-invocation lines (START/END/REPORT, rapid's
	// INFO log); otherwise only INIT REPORT and the function's own output
	// are shown.
	Verbose bool
}

// Instance is one aws-lambda-rie process running one function's bootstrap.
// RIE takes one invocation at a time; callers serialize (Function does).
type Instance struct {
	cfg     InstanceConfig
	addr    string // RIE's invoke address
	cmd     *exec.Cmd
	started time.Time
	exited  chan struct{}
	logs    *logWriter
	client  *http.Client
}

// StartInstance starts RIE on two free loopback ports of its own (its
// defaults, 8080 and 9001, would collide between functions). RIE starts
// the bootstrap lazily, on the first invocation, as Lambda does.
func StartInstance(cfg InstanceConfig) (*Instance, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	in := &Instance{
		cfg:    cfg,
		addr:   net.JoinHostPort("127.0.0.1", ports[0]),
		exited: make(chan struct{}),
		logs:   newLogWriter(cfg.Name, cfg.Log, cfg.Verbose),
		// Invocations are bounded by the caller's context; no keep-alive
		// pooling games across instances.
		client: &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 1}},
	}
	in.cmd = exec.Command(cfg.RIE,
		"--runtime-interface-emulator-address", in.addr,
		"--runtime-api-address", net.JoinHostPort("127.0.0.1", ports[1]),
		cfg.Bootstrap)
	in.cmd.Dir = cfg.Dir
	in.cmd.Env = cfg.Env
	in.cmd.Stdout = in.logs
	in.cmd.Stderr = in.logs
	// Its own process group, killed as a whole; and killed with us if the
	// gateway dies without cleaning up. RIE puts the bootstrap in a group
	// of its own and stops it on SIGTERM; a bootstrap orphaned by a killed
	// RIE exits when its Runtime API connection fails.
	in.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	in.started = time.Now()
	if err := in.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cfg.RIE, err)
	}
	go func() {
		in.cmd.Wait()
		in.logs.Flush()
		close(in.exited)
	}()
	return in, nil
}

// Started is when the RIE process was started.
func (in *Instance) Started() time.Time { return in.started }

// Exited is closed once the RIE process has ended.
func (in *Instance) Exited() <-chan struct{} { return in.exited }

// InitDurations reports every INIT REPORT durationMs RIE logs (one per
// cold start of the bootstrap), for benchmarks.
func (in *Instance) InitDurations() <-chan float64 { return in.logs.inits }

// ErrTimedOut is an invocation that ran past the function's timeout.
var ErrTimedOut = errors.New("function timed out")

// Invoke sends one event and returns the function's output. RIE answers
// 200 for function errors too ({"errorMessage":…}); a function timeout is
// its plain-text "Task timed out after N.00 seconds". A connection refused
// while RIE is still starting is retried until ctx ends.
func (in *Instance) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+in.addr+InvokePath, bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		res, err := in.client.Do(req)
		if err != nil {
			if isRefused(err) {
				select {
				case <-in.exited:
					return nil, fmt.Errorf("%s: aws-lambda-rie exited", in.cfg.Name)
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-time.After(time.Millisecond):
					continue
				}
			}
			return nil, err
		}
		out, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return nil, err
		}
		if res.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s: aws-lambda-rie answered %d: %s", in.cfg.Name, res.StatusCode, truncate(out, 300))
		}
		if bytes.HasPrefix(out, []byte("Task timed out after")) {
			return nil, fmt.Errorf("%s: %w: %s", in.cfg.Name, ErrTimedOut, out)
		}
		return out, nil
	}
}

// Close stops RIE (SIGTERM, which also stops the bootstrap), then kills
// the process group if it lingers.
func (in *Instance) Close() {
	pgid := in.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-in.exited:
	case <-time.After(2 * time.Second):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-in.exited
	}
	in.client.CloseIdleConnections()
}

func isRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}

// freePorts reserves n loopback ports by listening on them, then releases
// them for the child to bind. Another process could take one in between;
// on a developer machine that is rare enough.
func freePorts(n int) ([]string, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var out []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		out = append(out, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
	return out, nil
}

var initReportRE = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// logWriter prefixes each line of RIE's output with the function name and
// writes it to the gateway's log, dropping RIE's per-invocation chatter
// unless verbose, and reports INIT REPORT durations.
type logWriter struct {
	prefix  string
	out     io.Writer
	verbose bool
	inits   chan float64

	mu  sync.Mutex
	buf []byte
}

func newLogWriter(name string, out io.Writer, verbose bool) *logWriter {
	if out == nil {
		out = io.Discard
	}
	return &logWriter{prefix: "[" + name + "] ", out: out, verbose: verbose, inits: make(chan float64, 64)}
}

func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.line(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

// Flush writes a last unterminated line.
func (l *logWriter) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.line(string(l.buf))
		l.buf = nil
	}
}

func (l *logWriter) line(s string) {
	if m := initReportRE.FindStringSubmatch(s); m != nil {
		if ms, err := strconv.ParseFloat(m[1], 64); err == nil {
			select {
			case l.inits <- ms:
			default: // nobody is reading: benchmarks only
			}
		}
	} else if !l.verbose && chatter(s) {
		return
	}
	fmt.Fprintln(l.out, l.prefix+s)
}

// chatter is RIE's own per-invocation log.
func chatter(s string) bool {
	for _, p := range []string{"START RequestId:", "END RequestId:", "REPORT RequestId:"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return strings.Contains(s, "[INFO] (rapid)") || strings.Contains(s, "[DEBUG] (rapid)")
}
