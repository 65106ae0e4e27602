package engine

import "context"

// Flight is a job started by Start: its result once it has one, and the
// way to let it go when its request answers first.
type Flight struct {
	rn      *Runner
	job     Job
	done    chan Result
	abandon context.CancelCauseFunc
}

// Start runs j in the background on a context of its own: the job must
// outlive a request that answers early, so ctx lends it only its values,
// never its cancellation or deadline; JobTimeout bounds it instead.
func (rn *Runner) Start(ctx context.Context, j Job) *Flight {
	base, abandon := context.WithCancelCause(context.WithoutCancel(ctx))
	jobCtx, cancel := context.WithTimeout(base, rn.JobTimeout)
	f := &Flight{rn: rn, job: j, done: make(chan Result, 1), abandon: abandon}
	rn.jobs.Add(1)
	go func() {
		defer rn.jobs.Done()
		defer abandon(nil) // releases base once the job is over
		defer cancel()
		f.done <- rn.run(jobCtx, j)
	}()
	return f
}

// Done delivers the job's result, once.
func (f *Flight) Done() <-chan Result { return f.done }

// Detach is called when the request answers before the job is done (202).
// A long-running server lets the job go on to finish the generation. With
// a Dispatcher (Lambda), this invocation will freeze once it answers, so
// the job here stops unfinished and another invocation finishes the
// generation; ctx is the request's, still live.
func (f *Flight) Detach(ctx context.Context) {
	if f.rn.Dispatcher == nil {
		return
	}
	f.abandon(errHandedOff)
	f.rn.handOff(ctx, f.job)
}

// Wait blocks until every job Start started has returned, those that
// outlived their request's answer included (a handed-off job stops, a local
// server's goes on to finish its generation). Tests wait on it before
// asserting what such a job did or did not write.
func (rn *Runner) Wait() { rn.jobs.Wait() }
