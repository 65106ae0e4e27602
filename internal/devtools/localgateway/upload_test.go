package localgateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"adstudio/internal/database"
	"adstudio/internal/devtools/objectstoretest"
	"adstudio/internal/devtools/testenv"
	"adstudio/internal/routes"
)

// countingInvoker counts the invocations that reach a function.
type countingInvoker struct {
	Invoker
	n atomic.Int64
}

func (c *countingInvoker) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	c.n.Add(1)
	return c.Invoker.Invoke(ctx, payload)
}

// noiseImage is w×h pixels of pseudo-random noise from a fixed seed, alpha
// included: nothing PNG's filters and deflate can shrink, so the file is
// about 4·w·h bytes.
func noiseImage(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < len(img.Pix); i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < len(img.Pix); j++ {
			img.Pix[i+j] = byte(v >> (8 * j))
		}
	}
	return img
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// profileCredits is the signed-in user's id and adGraphics balance, as
// GET /api/me reports them.
func profileCredits(t *testing.T, c *client) (string, float64) {
	t.Helper()
	me := c.json("GET", "/api/me", nil, 200)
	user, _ := me["user"].(map[string]any)
	profile, _ := me["profile"].(map[string]any)
	id, _ := user["id"].(string)
	credits, ok := profile["creditsAdGraphics"].(float64)
	if id == "" || !ok {
		t.Fatalf("/api/me: %v", me)
	}
	return id, credits
}

// TestLargeReferenceThroughUpload sends a reference image larger than
// Lambda's 6 MB event (a 9 MB PNG) to the packaged generate function the
// only way it can arrive: uploaded straight to the bucket (versitygw, a
// real S3 server, so the presigned PUT is checked as R2 checks it) through
// POST /api/uploads, then named by its referenceImageUrl.
//
// The same image inline, as a data URL in the JSON body, never reaches the
// function. Two limits stand in the way, both API Gateway's own answers:
//
//   - a body over the HTTP API's 10 MB payload limit (the whole image: its
//     data URL alone is ~12.7 MB) is refused by API Gateway itself with
//     413 {"message":"Request Entity Too Large"};
//   - a body under 10 MB whose event is over Lambda's 6 MB synchronous
//     invocation limit (6,291,456 bytes; here a 5 MB crop of the image,
//     ~6.7 MB as a data URL) cannot be invoked: Lambda refuses the event
//     (RequestEntityTooLargeException) and the client gets API Gateway's
//     error, never a body of ours. This package answers it as 413
//     {"message":"Request Entity Too Large"} (docs/local-lambda.md); on a
//     deployed HTTP API the status and message are API Gateway's choice
//     (reports differ between 413 and a 5xx integration failure), but in
//     every case it is API Gateway's {"message":…} shape: our
//     {"error":{"code":"PAYLOAD_TOO_LARGE",…}} answer cannot appear, since
//     none of our code runs.
//
// The function's own PAYLOAD_TOO_LARGE (workflowapi.MaxBody, 6 MB) cannot
// be reached through the gateway at all: the body is part of the event, and
// the event is always larger than the body (plus headers and request
// context; JSON escaping or base64 only grow it), so any body over 6 MB
// already makes the event too large. That answer is for servers without a
// gateway in front (make dev), and is tested there.
func TestLargeReferenceThroughUpload(t *testing.T) {
	rie := needRIE(t)
	gw := objectstoretest.Start(t, testenv.Tool(t, objectstoretest.BinEnv, objectstoretest.BinHow), "generations")
	dist := lambdaDist(t)
	s := startServer(t, rie, dist, map[string]string{
		"OBJECTS_DIR": "", "R2_ACCESS_KEY_ID": gw.Access, "R2_SECRET_ACCESS_KEY": gw.Secret,
		"R2_BUCKET": "generations", "S3_ENDPOINT": gw.Endpoint,
	})
	// Installed before any request is sent, so every invocation of the
	// generate function through the gateway is counted.
	gen := &countingInvoker{Invoker: s.Gateway.Functions[routes.Generate]}
	s.Gateway.Functions[routes.Generate] = gen

	noise := noiseImage(1700, 1400)
	big := encodePNG(t, noise)
	if len(big) <= MaxPayload || len(big) > MaxRequestBody {
		t.Fatalf("reference PNG is %d bytes, want over %d and at most %d", len(big), MaxPayload, MaxRequestBody)
	}
	if _, err := png.Decode(bytes.NewReader(big)); err != nil {
		t.Fatalf("reference PNG does not decode: %v", err)
	}
	bigURL := "data:image/png;base64," + base64.StdEncoding.EncodeToString(big)

	c := newClient(t, s.URL)
	c.signUp("large@example.com")
	// Three credits, so "spent once" is seen as 3 → 2, not as a balance
	// that could not go lower.
	userID, _ := profileCredits(t, c)
	db, err := database.Open(s.Config.DatabaseURL, s.Config.DatabaseToken)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Exec(t.Context(), `UPDATE "user_profile" SET "credits_ad_graphics" = 3 WHERE "user_id" = ?`, userID); err != nil {
		t.Fatal(err)
	}
	if _, credits := profileCredits(t, c); credits != 3 {
		t.Fatalf("credits after the grant: %v, want 3", credits)
	}

	// Inline, as the SPA sends it (the reference twice), and over 10 MB:
	// API Gateway's payload limit.
	invocations, calls := gen.n.Load(), s.Fake.Calls()
	gatewayRefusal := `{"message":"Request Entity Too Large"}`
	status, _, body := c.do("POST", "/api/workflows/image-from-reference", map[string]any{
		"prompt": "on marble", "referenceImageUrl": bigURL,
		"input": map[string]any{"messages": []any{map[string]any{"role": "user", "content": []any{
			map[string]any{"image": bigURL}, map[string]any{"text": "on marble"},
		}}}},
	})
	if status != 413 || string(body) != gatewayRefusal {
		t.Errorf("9 MB reference inline (SPA shape): %d %.200s, want 413 %s", status, body, gatewayRefusal)
	}
	// Inline once and under 10 MB, but an event over Lambda's 6 MB.
	crop := encodePNG(t, noise.SubImage(image.Rect(0, 0, 1700, 740)))
	inline, _ := json.Marshal(map[string]string{"prompt": "on marble", "referenceImageUrl": "data:image/png;base64," + base64.StdEncoding.EncodeToString(crop)})
	if len(inline) <= MaxPayload || len(inline) > MaxRequestBody {
		t.Fatalf("inline body is %d bytes, want over %d and at most %d", len(inline), MaxPayload, MaxRequestBody)
	}
	status, _, body = c.do("POST", "/api/workflows/image-from-reference", json.RawMessage(inline))
	if status != 413 || string(body) != gatewayRefusal {
		t.Errorf("%d-byte inline body: %d %.200s, want 413 %s", len(inline), status, body, gatewayRefusal)
	}
	if n := gen.n.Load() - invocations; n != 0 {
		t.Errorf("generate invoked %d times for the inline references, want 0", n)
	}
	if n := s.Fake.Calls() - calls; n != 0 {
		t.Errorf("provider called %d times for the inline references, want 0", n)
	}
	if _, credits := profileCredits(t, c); credits != 3 {
		t.Errorf("credits after the refused inline references: %v, want 3", credits)
	}

	// The upload flow: ask for a URL, PUT the bytes to the bucket directly
	// (not through the gateway), then name the upload.
	up := c.json("POST", "/api/uploads", map[string]any{"contentType": "image/png", "size": len(big)}, 200)
	uploadURL, _ := up["uploadUrl"].(string)
	refURL, _ := up["referenceImageUrl"].(string)
	headers, _ := up["headers"].(map[string]any)
	if up["method"] != "PUT" || !strings.HasPrefix(uploadURL, gw.Endpoint+"/generations/") || !strings.Contains(uploadURL, "X-Amz-Signature=") ||
		!strings.HasPrefix(refURL, s.URL+"/api/uploads/") || up["maxBytes"] != float64(10<<20) || up["expiresAt"] == nil ||
		headers["Content-Type"] != "image/png" || headers["Content-Length"] != strconv.Itoa(len(big)) {
		t.Fatalf("POST /api/uploads: %v", up)
	}
	put, err := http.NewRequest("PUT", uploadURL, bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		put.Header.Set(k, v.(string))
	}
	// net/http sends Content-Length from the field, never from Header.
	put.ContentLength = int64(len(big))
	res, err := http.DefaultClient.Do(put)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("PUT to the presigned URL: %d %s", res.StatusCode, out)
	}

	invocations, calls = gen.n.Load(), s.Fake.Calls()
	done := c.json("POST", "/api/workflows/image-from-reference", map[string]string{"prompt": "on marble", "referenceImageUrl": refURL}, 200)
	credits, _ := done["credits"].(map[string]any)
	if done["status"] != "completed" || done["generationId"] == nil || credits["adGraphics"] != float64(2) {
		t.Fatalf("generation from the upload: %v", done)
	}
	if n := gen.n.Load() - invocations; n != 1 {
		t.Errorf("generate invoked %d times for the generation, want 1", n)
	}
	if n := s.Fake.Calls() - calls; n != 1 {
		t.Errorf("provider called %d times for the generation, want 1", n)
	}
	// The provider received the uploaded bytes, exactly, as a data URL.
	var sent struct {
		Input struct {
			Messages []struct {
				Content []struct {
					Image string `json:"image"`
				} `json:"content"`
			} `json:"messages"`
		} `json:"input"`
	}
	if err := json.Unmarshal(s.Fake.LastBody(), &sent); err != nil {
		t.Fatalf("provider request: %v", err)
	}
	var images []string
	for _, m := range sent.Input.Messages {
		for _, p := range m.Content {
			if p.Image != "" {
				images = append(images, p.Image)
			}
		}
	}
	if len(images) != 1 || images[0] != bigURL {
		got := make([]int, len(images))
		for i, im := range images {
			got[i] = len(im)
		}
		t.Errorf("provider's reference images: lengths %v, want one data URL of the %d uploaded bytes (%d characters)", got, len(big), len(bigURL))
	}

	// Spent once: the balance, and the ledger's debits.
	if _, credits := profileCredits(t, c); credits != 2 {
		t.Errorf("credits after the generation: %v, want 2", credits)
	}
	var debits int
	if err := db.QueryRow(t.Context(), `SELECT count(*) FROM "credit_ledger" WHERE "user_id" = ? AND "delta" < 0`, userID).Scan(&debits); err != nil {
		t.Fatal(err)
	}
	if debits != 1 {
		t.Errorf("debits in the ledger: %d, want 1", debits)
	}
}
