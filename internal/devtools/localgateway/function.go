package localgateway

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"adstudio/internal/routes"
)

// Function is one deployed function with a single execution environment:
// one RIE instance, one invocation at a time (RIE refuses a second one).
// An environment that timed out or broke is thrown away and the next
// invocation starts a fresh one, cold, as Lambda does.
type Function struct {
	Name    routes.Function
	Timeout time.Duration

	cfg InstanceConfig
	run sync.Mutex // one invocation at a time

	mu     sync.Mutex // guards inst and closed; never held during an invocation
	inst   *Instance
	closed bool
}

// StartFunction checks the bootstrap and starts its RIE.
func StartFunction(name routes.Function, cfg InstanceConfig) (*Function, error) {
	if st, err := os.Stat(cfg.Bootstrap); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("%s: %s is not an executable bootstrap (make build-local builds them)", name, cfg.Bootstrap)
	}
	// The time limit the stack deploys the function with (routes.Function.Size).
	f := &Function{Name: name, Timeout: name.Size().Timeout, cfg: cfg}
	inst, err := StartInstance(cfg)
	if err != nil {
		return nil, err
	}
	f.inst = inst
	return f, nil
}

// errClosed is an invocation after Close.
var errClosed = errors.New("function is shut down")

// Invoke runs one invocation and returns the function's output, waiting
// for any invocation already running. It is bounded by the function's
// timeout (RIE enforces it) plus a margin, not by the caller's client: a
// Lambda invocation runs to its end even when API Gateway stops waiting.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	f.run.Lock()
	defer f.run.Unlock()
	inst, err := f.instance()
	if err != nil {
		return nil, err
	}
	ictx, cancel := context.WithTimeout(ctx, f.Timeout+10*time.Second)
	defer cancel()
	out, err := inst.Invoke(ictx, payload)
	if err != nil {
		f.discard(inst)
	}
	return out, err
}

// instance is the running environment, started anew if the last one ended.
func (f *Function) instance() (*Instance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, errClosed
	}
	if f.inst != nil && !exited(f.inst) {
		return f.inst, nil
	}
	if f.inst != nil {
		f.inst.Close()
		f.inst = nil
	}
	inst, err := StartInstance(f.cfg)
	if err != nil {
		return nil, err
	}
	f.inst = inst
	return inst, nil
}

func (f *Function) discard(inst *Instance) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.inst == inst {
		f.inst = nil
	}
	inst.Close()
}

// Close stops the function's RIE, ending a running invocation; later
// invocations fail.
func (f *Function) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	if f.inst != nil {
		f.inst.Close()
		f.inst = nil
	}
}

func exited(in *Instance) bool {
	select {
	case <-in.Exited():
		return true
	default:
		return false
	}
}
