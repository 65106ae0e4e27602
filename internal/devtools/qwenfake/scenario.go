package qwenfake

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Scenario markers. Put one (or several) anywhere in the prompt; the client
// forwards the prompt unchanged, so the fake sees it in the text part.
// Without a marker a valid request succeeds.
const (
	// Moderation answers 400 DataInspectionFailed.
	Moderation = "[fake:moderation]"
	// InvalidParameter answers 400 InvalidParameter with a message.
	InvalidParameter = "[fake:invalid-parameter]"
	// BadKey answers 401 InvalidApiKey even with the right key.
	BadKey = "[fake:bad-key]"
	// AccessDenied answers 403 AccessDenied.
	AccessDenied = "[fake:access-denied]"
	// Throttled answers 429 Throttling.RateQuota.
	Throttled = "[fake:throttled]"
	// Arrearage answers 400 Arrearage with a message.
	Arrearage = "[fake:arrearage]"
	// Internal answers 500 InternalError.
	Internal = "[fake:internal]"
	// GatewayHTML answers 502 with an HTML page (a gateway, not DashScope).
	GatewayHTML = "[fake:gateway-html]"
	// OKWithCode answers 200 {request_id, code: InvalidParameter, message}.
	OKWithCode = "[fake:200-with-code]"
	// NonJSON answers 200 with a body that is not JSON.
	NonJSON = "[fake:non-json]"
	// JSONArray answers 200 with a JSON array (wrapping a success body).
	JSONArray = "[fake:json-array]"
	// NoImages answers 200 {"output":{"choices":[]},"request_id":…}.
	NoImages = "[fake:no-images]"
	// HeaderRequestID leaves request_id out of the body (success or error)
	// and sends it as an x-request-id header. [fake:header-request-id=NAME]
	// uses header NAME instead.
	HeaderRequestID = "[fake:header-request-id]"
	// BrokenImage succeeds but the result image URLs answer 404.
	BrokenImage = "[fake:broken-image]"
	// DropImage succeeds but the image download is cut off mid-body.
	DropImage = "[fake:drop-image]"
	// BigImage succeeds and the result image is a ~5 MiB PNG (1280×1024
	// noise, whatever size was requested).
	BigImage = "[fake:big-image]"

	// The result-image scenarios below succeed, but what the result URL
	// points at is not an image the backend may keep.

	// HTMLImage: the result URL answers 200 text/html, a page with a script.
	HTMLImage = "[fake:html-image]"
	// SVGImage: the result URL answers 200 image/svg+xml, an SVG with a
	// script.
	SVGImage = "[fake:svg-image]"
	// MislabeledImage: the result URL (ending .png) answers a real JPEG
	// labelled text/html, so only the bytes tell what it is.
	MislabeledImage = "[fake:mislabeled-image]"
	// RedirectLoopImage: the result URL redirects to itself, forever.
	RedirectLoopImage = "[fake:redirect-loop-image]"
	// HugeImage: the result URL announces a 64 MiB body, then hangs up.
	HugeImage = "[fake:huge-image]"
	// PrivateImageURL: the result URL is a signed-looking URL on the
	// instance metadata address, 169.254.169.254.
	PrivateImageURL = "[fake:private-image-url]"
	// FileImageURL: the result URL is a file: URL.
	FileImageURL = "[fake:file-image-url]"
	// DataImage: the result is a real PNG as a data:image/png;base64 URL,
	// the shape of the built-in generator's results.
	DataImage = "[fake:data-image]"
	// DataHTMLImage: the result is an HTML page as a data:image/png;base64
	// URL.
	DataHTMLImage = "[fake:data-html-image]"
)

// Hold is the marker that stops the request before its answer until the
// test releases it: Server.Held delivers it on arrival. Unlike Slow, no
// clock decides when it answers, so a test can put its own events (a sync
// budget ending, a timeout firing, a context expiring) at a known point of
// the provider call.
const Hold = "[fake:hold]"

// Slow is the marker that delays the response headers by d. The wait ends
// early when the client goes away, so a timed-out test does not hang Close.
func Slow(d time.Duration) string { return "[fake:slow=" + d.String() + "]" }

// Fail is the marker for an arbitrary provider error: HTTP status, provider
// code (omitted from the body when empty) and message (omitted when empty;
// must not contain "]"). For example Fail(400, "Throttling.RateQuota", "")
// or Fail(500, "InvalidParameter", "bad").
func Fail(status int, code, message string) string {
	return fmt.Sprintf("[fake:error=%d:%s:%s]", status, code, message)
}

var markerRE = regexp.MustCompile(`\[fake:([a-z0-9-]+)(?:=([^\]]*))?\]`)

// scenario is what the markers in one prompt ask for.
type scenario struct {
	delay    time.Duration
	hold     bool
	idHeader string // non-empty: request id in this header, not the body
	image    imageMode
	fail     *apiError // an error answer
	raw      rawMode   // a non-success body; with fail, the last marker wins
}

type imageMode int

const (
	imageNormal imageMode = iota
	imageBroken
	imageDrop
	imageBig
	imageHTML
	imageSVG
	imageMislabeled
	imageRedirectLoop
	imageHuge
	imagePrivateURL
	imageFileURL
	imageData
	imageDataHTML
)

type rawMode int

const (
	rawNone rawMode = iota
	rawGatewayHTML
	rawNonJSON
	rawJSONArray
	rawNoImages
)

// parseScenario reads the markers of a prompt. An unknown marker is an
// error, so a typo fails the test instead of silently succeeding.
func parseScenario(prompt string) (scenario, error) {
	var sc scenario
	for _, m := range markerRE.FindAllStringSubmatch(prompt, -1) {
		name, arg := m[1], m[2]
		answer := func(e *apiError, r rawMode) {
			sc.fail, sc.raw = e, r
		}
		switch name {
		case "moderation":
			answer(&apiError{http.StatusBadRequest, "DataInspectionFailed", "Input data may contain inappropriate content."}, rawNone)
		case "invalid-parameter":
			answer(&apiError{http.StatusBadRequest, "InvalidParameter", MsgInvalidParameter}, rawNone)
		case "bad-key":
			answer(&apiError{http.StatusUnauthorized, "InvalidApiKey", "Invalid API-key provided."}, rawNone)
		case "access-denied":
			answer(&apiError{http.StatusForbidden, "AccessDenied", "Access denied."}, rawNone)
		case "throttled":
			answer(&apiError{http.StatusTooManyRequests, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later."}, rawNone)
		case "arrearage":
			answer(&apiError{http.StatusBadRequest, "Arrearage", MsgArrearage}, rawNone)
		case "internal":
			answer(&apiError{http.StatusInternalServerError, "InternalError", "An internal error has occured, please try again later or contact service support."}, rawNone)
		case "200-with-code":
			answer(&apiError{http.StatusOK, "InvalidParameter", MsgInvalidParameter}, rawNone)
		case "error":
			parts := strings.SplitN(arg, ":", 3)
			status, err := strconv.Atoi(parts[0])
			if err != nil || status < 200 || status > 599 {
				return sc, fmt.Errorf("qwenfake: bad marker %q: want error=<status>:<code>:<message>", m[0])
			}
			e := &apiError{status: status}
			if len(parts) > 1 {
				e.code = parts[1]
			}
			if len(parts) > 2 {
				e.message = parts[2]
			}
			answer(e, rawNone)
		case "gateway-html":
			answer(nil, rawGatewayHTML)
		case "non-json":
			answer(nil, rawNonJSON)
		case "json-array":
			answer(nil, rawJSONArray)
		case "no-images":
			answer(nil, rawNoImages)
		case "slow":
			d, err := time.ParseDuration(arg)
			if err != nil || d < 0 {
				return sc, fmt.Errorf("qwenfake: bad marker %q: want slow=<duration>", m[0])
			}
			sc.delay = d
		case "hold":
			sc.hold = true
		case "header-request-id":
			sc.idHeader = "x-request-id"
			if arg != "" {
				sc.idHeader = arg
			}
		case "broken-image":
			sc.image = imageBroken
		case "drop-image":
			sc.image = imageDrop
		case "big-image":
			sc.image = imageBig
		case "html-image":
			sc.image = imageHTML
		case "svg-image":
			sc.image = imageSVG
		case "mislabeled-image":
			sc.image = imageMislabeled
		case "redirect-loop-image":
			sc.image = imageRedirectLoop
		case "huge-image":
			sc.image = imageHuge
		case "private-image-url":
			sc.image = imagePrivateURL
		case "file-image-url":
			sc.image = imageFileURL
		case "data-image":
			sc.image = imageData
		case "data-html-image":
			sc.image = imageDataHTML
		default:
			return sc, fmt.Errorf("qwenfake: unknown marker %q", m[0])
		}
	}
	return sc, nil
}

// Provider messages the fake uses, exported so tests can assert that rows
// 5 and 8 of the error mapping pass them through.
const (
	MsgInvalidParameter = "num_images_per_prompt must be 1"
	MsgArrearage        = "Access denied, please make sure your account is in good standing."
)
