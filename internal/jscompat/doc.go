// Package jscompat reproduces the JavaScript behaviours that the service's
// wire contract depends on. That contract was defined by a Node.js backend,
// so where Go and JavaScript disagree (which characters trim removes, how
// parseInt reads "12px", what JSON.stringify escapes, which strings
// `new URL` accepts) these helpers follow JavaScript as Node 20 runs it.
// Domain rules built on them (what a blank prompt is, which URLs a route
// accepts) stay with the packages that own those rules.
package jscompat
