package plotting

import (
	"strings"
	"testing"
)

// TestSliderShowsTheLastFrameAndEscapesLabels pins the slider's markup:
// one frame per position, all hidden but the last (the page without its
// script still shows one), the range input spanning them, labels from a
// run escaped, and an empty slider refused.
func TestSliderShowsTheLastFrameAndEscapesLabels(t *testing.T) {
	img := Image{Title: "map <b>", PNG: []byte{0x89, 'P', 'N', 'G'}}
	html, err := Slider("Checkpoint", []SliderFrame{
		{Label: "step 1", Images: []Image{img}},
		{Label: `step "2" <script>`, Images: []Image{img, img}},
		{Label: "step 3", Images: []Image{img}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := string(html)
	for _, want := range []string{`max="2" value="2"`, `<output>step 3</output>`, `data-label="step 1" hidden`,
		`data-label="step &#34;2&#34; &lt;script&gt;" hidden`, `data-label="step 3">`, `alt="map &lt;b&gt;"`, `src="data:image/png;base64,`} {
		if !strings.Contains(s, want) {
			t.Errorf("slider lacks %q:\n%s", want, s)
		}
	}
	if n := strings.Count(s, "<img "); n != 4 {
		t.Errorf("%d images, want 4", n)
	}
	if strings.Contains(s, "<script>\"") || strings.Count(s, "<script>") != 1 {
		t.Errorf("a label reached the page unescaped:\n%s", s)
	}
	if _, err := Slider("x", nil); err == nil {
		t.Error("a slider without frames was made")
	}
}
