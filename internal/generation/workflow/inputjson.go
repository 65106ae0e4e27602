package workflow

import (
	"fmt"
	"strconv"

	"adstudio/internal/jscompat"
)

// InputJSON renders the input_json document stored with a generation
// (docs/app-api.md §14.2) for workflow, with keys in the documented order and absent values
// omitted, written as JSON.stringify would write it.
//
// For VideoFromReference the document is {requestId, prompt,
// referenceImageUrl}; pass the raw values from ParseVideoStub in Prompt and
// ReferenceImage.
func (p Params) InputJSON(workflow, requestID string) ([]byte, error) {
	b := make([]byte, 0, 256+2*len(p.Prompt)+2*len(p.ReferenceImage))
	b = append(b, `{"requestId":`...)
	b = jscompat.AppendString(b, requestID)
	b = append(b, `,"prompt":`...)
	b = jscompat.AppendString(b, p.Prompt)
	switch workflow {
	case TextToImage:
		b = append(b, `,"parameters":`...)
		b = p.appendParameters(b, false)
	case ImageFromReference:
		// The reference is stored twice, as the old backend did.
		b = append(b, `,"referenceImage":`...)
		b = jscompat.AppendString(b, p.ReferenceImage)
		b = append(b, `,"parameters":`...)
		b = p.appendParameters(b, true)
	case VideoFromReference:
		b = append(b, `,"referenceImageUrl":`...)
		b = jscompat.AppendString(b, p.ReferenceImage)
	default:
		return nil, fmt.Errorf("workflow: no input_json shape for workflow %q", workflow)
	}
	return append(b, '}'), nil
}

func (p Params) appendParameters(b []byte, reference bool) []byte {
	b = append(b, `{"prompt":`...)
	b = jscompat.AppendString(b, p.Prompt)
	if reference {
		b = append(b, `,"referenceImage":`...)
		b = jscompat.AppendString(b, p.ReferenceImage)
	}
	b = append(b, `,"n":`...)
	b = strconv.AppendInt(b, int64(p.N), 10)
	if p.Size != "" {
		b = append(b, `,"size":`...)
		b = jscompat.AppendString(b, p.Size)
	}
	if p.NegativePrompt != "" {
		b = append(b, `,"negativePrompt":`...)
		b = jscompat.AppendString(b, p.NegativePrompt)
	}
	if p.Seed != nil {
		b = append(b, `,"seed":`...)
		b = strconv.AppendInt(b, *p.Seed, 10)
	}
	b = append(b, `,"promptExtend":`...)
	b = strconv.AppendBool(b, p.PromptExtend)
	b = append(b, `,"watermark":`...)
	b = strconv.AppendBool(b, p.Watermark)
	return append(b, '}')
}
