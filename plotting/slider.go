package plotting

import (
	"fmt"
	"html/template"
	"strings"
)

// SliderFrame is one position of a Slider: its label (a training step)
// and the figures shown there.
type SliderFrame struct {
	Label  string
	Images []Image
}

// sliderTemplate stacks the frames, all hidden but the one the range input
// selects (the last at first); the inline script switches them, with no
// file or network access, and writes the frame's label beside the input.
var sliderTemplate = template.Must(template.New("slider").Parse(`<div class="slider" data-slider>
<p><label>{{.Caption}} <input type="range" min="0" max="{{.Max}}" value="{{.Max}}" step="1"></label> <output>{{.Last}}</output></p>
{{- range $i, $f := .Frames}}
<div class="slider-frame" data-label="{{$f.Label}}"{{if ne $i $.Max}} hidden{{end}}>
{{- range $f.Images}}
<figure>
<img {{.Src}} alt="{{.Title}}"{{if .Width}} width="{{.Width}}"{{end}}>
<figcaption>{{.Title}}</figcaption>
</figure>
{{- end}}
</div>
{{- end}}
</div>
<script>
(function () {
  document.querySelectorAll("[data-slider]").forEach(function (s) {
    if (s.dataset.ready) return;
    s.dataset.ready = "1";
    var r = s.querySelector("input[type=range]"), o = s.querySelector("output");
    var frames = s.querySelectorAll(".slider-frame");
    function show() {
      var i = +r.value;
      frames.forEach(function (f, j) { f.hidden = j !== i; });
      o.textContent = frames[i].getAttribute("data-label");
    }
    r.addEventListener("input", show);
    show();
  });
})();
</script>
`))

// Slider returns a block of a page (a Section's Interactive) showing one
// frame of figures at a time, chosen with a range input labelled caption:
// the maps of a run's checkpoints along training, switched by step. The
// page stays self-contained: the figures are data URIs, the script inline.
func Slider(caption string, frames []SliderFrame) (template.HTML, error) {
	if len(frames) == 0 {
		return "", fmt.Errorf("slider %q: no frames", caption)
	}
	type frameView struct {
		Label  string
		Images []imageView
	}
	v := struct {
		Caption, Last string
		Max           int
		Frames        []frameView
	}{Caption: caption, Last: frames[len(frames)-1].Label, Max: len(frames) - 1}
	for _, f := range frames {
		fv := frameView{Label: f.Label}
		for _, im := range f.Images {
			fv.Images = append(fv.Images, viewImage(im))
		}
		v.Frames = append(v.Frames, fv)
	}
	var b strings.Builder
	if err := sliderTemplate.Execute(&b, v); err != nil {
		return "", fmt.Errorf("slider %q: %w", caption, err)
	}
	return template.HTML(b.String()), nil
}
