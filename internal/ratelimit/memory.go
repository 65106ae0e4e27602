package ratelimit

import (
	"container/list"
	"crypto/sha256"
	"sync"
)

// DefaultMaxKeys bounds a Memory that does not set MaxKeys. An entry costs
// at most about 270 bytes (a key of at most maxKeyBytes, its list element
// and map slot), so a full table stays under 3 MB. One Lambda instance
// serves one request at a time, a few hundred a second at most, so within
// the 10 s window of the general rule it sees a few thousand distinct keys
// at most; only a flood reaches the cap.
const DefaultMaxKeys = 10_000

// maxKeyBytes is the longest key stored as is. Keys embed the request path
// (unknown paths are counted too), so a longer one is replaced by its
// SHA-256: the cap on keys then also bounds the bytes they hold.
const maxKeyBytes = 128

// Memory counts PerInstance rules in this process, with the same algorithm
// and answers as the database counter (Limiter.Allow). The zero value is
// ready to use; it is safe for concurrent use.
//
// Memory stays bounded: an entry whose window has passed is indistinguishable
// from a missing one, so idle entries are dropped as later requests arrive;
// and at MaxKeys the entry idle longest is evicted to make room. Eviction
// resets that client's count: a flood of distinct keys can thus weaken the
// per-instance limit, never exhaust memory nor lock out new clients, which
// is the right way round for a fairness limit (the limits that protect
// secrets are counted in the database).
type Memory struct {
	// MaxKeys caps the number of counters; 0 means DefaultMaxKeys.
	MaxKeys int

	mu sync.Mutex
	// byKey indexes order, which runs from the least to the most recently
	// allowed request: a rejected request does not move its entry, exactly
	// as it does not move last_request in the database.
	byKey map[string]*list.Element
	order list.List
}

// memEntry is one counter, in milliseconds like the rate_limit row.
type memEntry struct {
	key     string
	count   int
	last    int64 // the last allowed request
	expires int64 // last + the rule's window: after it, the entry is idle
	refused bool  // a request was refused since the last allowed one
}

// Allow counts one request for key under rule at now (Unix milliseconds):
// better-auth's algorithm, as in Limiter.Allow.
func (m *Memory) Allow(key string, rule Rule, now int64) Decision {
	if len(key) > maxKeyBytes {
		sum := sha256.Sum256([]byte(key))
		key = string(sum[:])
	}
	win := rule.Window.Milliseconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byKey == nil {
		m.byKey = map[string]*list.Element{}
	}
	m.dropIdle(now)

	el, ok := m.byKey[key]
	if !ok {
		if len(m.byKey) >= m.maxKeys() {
			m.remove(m.order.Front())
		}
		m.byKey[key] = m.order.PushBack(&memEntry{key: key, count: 1, last: now, expires: now + win})
		return Decision{Allowed: true}
	}
	e := el.Value.(*memEntry)
	switch {
	case now-e.last >= win:
		e.count = 1
	case e.count < rule.Max:
		e.count++
	default:
		first := !e.refused
		e.refused = true
		return Decision{RetryAfter: retryAfter(e.last, win, now), First: first}
	}
	e.last, e.expires, e.refused = now, now+win, false
	m.order.MoveToBack(el)
	return Decision{Allowed: true}
}

// dropIdle removes entries from the front while their window has passed.
// The list is ordered by last allowed request, so with one window size this
// finds every idle entry; with several, an idle entry behind a live one with
// a longer window waits for it. Each entry is removed once, so the cost per
// request is constant over time.
func (m *Memory) dropIdle(now int64) {
	for el := m.order.Front(); el != nil && el.Value.(*memEntry).expires <= now; el = m.order.Front() {
		m.remove(el)
	}
}

func (m *Memory) remove(el *list.Element) {
	delete(m.byKey, el.Value.(*memEntry).key)
	m.order.Remove(el)
}

func (m *Memory) maxKeys() int {
	if m.MaxKeys > 0 {
		return m.MaxKeys
	}
	return DefaultMaxKeys
}

// len reports how many counters are held (tests).
func (m *Memory) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.byKey)
}

// retryAfter is the whole seconds until the window that started at last
// ends, at least 1: what X-Retry-After reports.
func retryAfter(last, win, now int64) int {
	return int(max((last+win-now+999)/1000, 1))
}
