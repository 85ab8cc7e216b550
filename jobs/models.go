package jobs

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/rleval/rleval/loaders"
	"github.com/rleval/rleval/plotting"
)

// modelsJob: analyses 8, 9 and 12: architectures and parameter counts,
// per-layer weight and bias histograms, and the actor − actor_target L2
// distances.
var modelsJob = Job{Name: "models", Sections: []Section{{"models", "Models"}, {"weights", "Weight distributions"}},
	Needs: needNets(loaders.RoleActor), Run: runModels}

// modelInfo is one network in models.json: what inspect shows, plus its
// layers and their histograms.
type modelInfo struct {
	NetView
	Layers []layerInfo `json:"layers"`
}

type layerInfo struct {
	Name string     `json:"name"`
	In   int        `json:"in"`
	Out  int        `json:"out"`
	W    *histogram `json:"weight_hist,omitempty"`
	B    *histogram `json:"bias_hist,omitempty"`
}

type histogram struct {
	Counts []int `json:"counts"`
	// Edges are null for a network whose weights are all NaN.
	Edges []num `json:"edges"`
}

func newHistogram(counts []int, edges []float64) *histogram {
	h := &histogram{Counts: counts, Edges: make([]num, len(edges))}
	for i, e := range edges {
		h.Edges[i] = num(e)
	}
	return h
}

// histRoles are the networks whose weights the notebook histograms.
var histRoles = map[loaders.Role]bool{loaders.RoleActor: true, loaders.RoleCritic1: true}

// l2Result is l2.json.
type l2Result struct {
	PerParameter map[string]num `json:"per_parameter"`
	Order        []string       `json:"order"`
	Total        num            `json:"total"`
}

func runModels(c *Context) (*Output, error) {
	var infos []modelInfo
	var noNumbers []string // networks none of whose weights is a number
	for _, role := range loaders.Roles {
		n := c.Run.Net(role)
		if n == nil {
			continue
		}
		mi := modelInfo{NetView: netView(role, n)}
		numbers := false
		for _, l := range n.Layers {
			li := layerInfo{Name: l.Name, In: l.In, Out: l.Out}
			if histRoles[role] {
				wc, we := plotting.Histogram(l.W, c.Opt.WeightBins)
				bc, be := plotting.Histogram(l.B, c.Opt.BiasBins)
				li.W, li.B = newHistogram(wc, we), newHistogram(bc, be)
			}
			numbers = numbers || slices.ContainsFunc(l.W, func(v float32) bool { return v == v })
			mi.Layers = append(mi.Layers, li)
		}
		if !numbers {
			noNumbers = append(noNumbers, n.Path)
		}
		infos = append(infos, mi)
	}
	if err := c.writeJSON("models.json", map[string]any{"networks": infos}); err != nil {
		return nil, err
	}
	if len(noNumbers) > 0 {
		return nil, fmt.Errorf("every weight of %s is NaN (a diverged network)", strings.Join(noNumbers, ", "))
	}
	out := &Output{}
	if a, t := c.Run.Net(loaders.RoleActor), c.Run.Net(loaders.RoleActorTarget); a != nil && t != nil {
		l2, err := l2Distance(a, t)
		if err != nil {
			return nil, err
		}
		if err := c.writeJSON("l2.json", l2); err != nil {
			return nil, err
		}
		out.Summary = func(s *RunSummary) { MetricL2Total.Set(s, float64(l2.Total)) }
		lt := plotting.Table{Caption: "L2 distance between actor and actor_target", Header: []string{"parameter", "L2"}}
		for _, name := range l2.Order {
			lt.Rows = append(lt.Rows, []string{name, fmt.Sprintf("%.6f", float64(l2.PerParameter[name]))})
		}
		lt.Rows = append(lt.Rows, []string{"total", fmt.Sprintf("%.6f", float64(l2.Total))})
		out.table("target", lt)
	}
	return out, plotModels(c, infos, out)
}

// plotModels adds the architecture table and the weight histograms of the
// actor and critic1.
func plotModels(c *Context, infos []modelInfo, out *Output) error {
	t := plotting.Table{Caption: "Architectures (read from the checkpoints' tensor shapes)", Header: []string{"network", "kind", "layers", "parameters", "format", "file"}}
	for _, mi := range infos {
		w := make([]string, len(mi.Widths))
		for i, x := range mi.Widths {
			w[i] = fmt.Sprint(x)
		}
		t.Rows = append(t.Rows, []string{mi.Role, mi.Kind, strings.Join(w, "→"), groupThousands(mi.Params), mi.Format, mi.Path})
	}
	out.Tables = append([]Table{{"models", t}}, out.Tables...)
	for _, role := range []loaders.Role{loaders.RoleActor, loaders.RoleCritic1} {
		n := c.Run.Net(role)
		if n == nil {
			continue
		}
		var layers []plotting.Layer
		for _, l := range n.Layers {
			layers = append(layers, plotting.Layer{Name: l.Name, In: l.In, Out: l.Out, Weights: l.W, Bias: l.B})
		}
		title := map[loaders.Role]string{loaders.RoleActor: "Weight distribution: Actor", loaders.RoleCritic1: "Weight distribution: Critic 1"}[role]
		fig, err := plotting.WeightHistograms(title, layers)
		if err := out.add("weights", "weights_"+string(role), fig, err); err != nil {
			return err
		}
	}
	return nil
}

// l2Distance computes ‖p − p_target‖ per parameter tensor and in total,
// pairing tensors by name as the notebook pairs named_parameters().
func l2Distance(a, t *loaders.Network) (*l2Result, error) {
	tp := map[string]loaders.Param{}
	for _, p := range t.Params {
		tp[p.Name] = p
	}
	res := &l2Result{PerParameter: map[string]num{}}
	total := 0.0
	for _, p := range a.Params {
		q, ok := tp[p.Name]
		if !ok || len(q.Data) != len(p.Data) {
			return nil, fmt.Errorf("l2: %s has %s %v but %s has no tensor of that name and size", a.Path, p.Name, p.Shape, t.Path)
		}
		ss := 0.0
		for i, v := range p.Data {
			d := float64(v - q.Data[i]) // the difference in float32, as torch takes it
			ss += d * d
		}
		res.PerParameter[p.Name] = num(math.Sqrt(ss))
		res.Order = append(res.Order, p.Name)
		total += ss
	}
	res.Total = num(math.Sqrt(total))
	return res, nil
}
