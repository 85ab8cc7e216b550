package loaders

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rleval/rleval/loaders/internal/datafile"
	"github.com/rleval/rleval/loaders/internal/pickle"
	"github.com/rleval/rleval/loaders/internal/torchzip"
)

// LoadNetwork reads a single-network checkpoint (gen-1 wrapped models/*.pth
// or gen-2 plain agent_<algo>/*.pt, CleanRL) and decides from its keys
// whether it is an actor, a SAC actor or a critic. A gen-2 critic alone does
// not say how its input splits into observation and action: its ObsDim and
// ActDim stay 0 (use LoadNetworkAs with an obsDim hint, or take them from
// the actor of the same run).
func LoadNetwork(path string) (*Network, error) {
	return LoadNetworkAs(path, "", 0)
}

// LoadNetworkAs is LoadNetwork with hints: kind, when not empty, is the
// role the caller expects (an actor file read as a critic is an error), and
// obsDim, when > 0, splits a critic's input into obsDim observations and the
// rest actions where the file does not record the split.
func LoadNetworkAs(path string, kind NetKind, obsDim int) (*Network, error) {
	nets, err := loadNetworks(path, kind, obsDim)
	if err != nil {
		return nil, err
	}
	if len(nets) != 1 {
		names := make([]string, 0, len(nets))
		for _, n := range nets {
			names = append(names, n.name)
		}
		return nil, fmt.Errorf("load %s: file holds %d networks (%s); use LoadNetworks: %w", path, len(nets), strings.Join(names, ", "), ErrInvalid)
	}
	return nets[0].net, nil
}

// LoadNetworks reads every network of a checkpoint, keyed by its name in
// the file: "actor", "actor_target", "critic.qf0", ... for a
// Stable-Baselines3 policy.pth, "q1" and "q2" for an original-TD3 critic
// file, and the file's base name (e.g. "actor") for single-network files.
// Stable-Baselines3 and original-TD3 files do not store the action bounds
// (SB3 keeps them in its data JSON, TD3 takes max_action as an argument):
// their actors have nil Low and High for the caller to fill in.
func LoadNetworks(path string) (map[string]*Network, error) {
	nets, err := loadNetworks(path, "", 0)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*Network, len(nets))
	for _, n := range nets {
		out[n.name] = n.net
	}
	return out, nil
}

type namedNet struct {
	name string
	net  *Network
}

// stateDict is a flat list of named tensors in file order.
type stateDict struct {
	keys    []string
	tensors map[string]*torchzip.Tensor
}

func (sd *stateDict) has(key string) bool { _, ok := sd.tensors[key]; return ok }

func toStateDict(v pickle.Value) (*stateDict, bool) {
	d, ok := v.(*pickle.Dict)
	if !ok {
		return nil, false
	}
	sd := &stateDict{tensors: make(map[string]*torchzip.Tensor, d.Len())}
	for i, k := range d.Keys {
		ks, ok := k.(string)
		t, ok2 := d.Values[i].(*torchzip.Tensor)
		if !ok || !ok2 {
			return nil, false
		}
		sd.keys = append(sd.keys, ks)
		sd.tensors[ks] = t
	}
	return sd, len(sd.keys) > 0
}

// netRecipe says where one network lives in a state dict.
type netRecipe struct {
	name    string
	format  string
	layers  []layerKeys
	kind    NetKind // "" when the layout does not say
	actorOK bool    // the layout is an actor
	low     []float32
	high    []float32
	obsDim  int // from the file, 0 if unknown
	actDim  int
	// meanClip is the clamp of an actor's pre-tanh output (SB3 gSDE).
	meanClip float32
	// eitherKind: the keys alone do not tell an actor from a critic (an
	// original-TD3 actor and OurDDPG's critic are both l1..l3); a caller's
	// wish decides.
	eitherKind bool
	// actionAt is the layer a critic's action enters when not the first
	// (Network.ActionAt): sfujim/TD3's DDPG.py critic, 1.
	actionAt int
}

// sb3DefaultClipMean is SB3 SAC's clip_mean default: with gSDE its mean
// head is Sequential(Linear, Hardtanh(-2, 2)).
const sb3DefaultClipMean = 2

// layerKeys names one Linear layer's tensors; weight2/bias2 name a second
// head stacked under the first (SAC mean and log_std).
type layerKeys struct{ name, weight, bias, weight2, bias2 string }

func loadNetworks(path string, kind NetKind, obsHint int) ([]namedNet, error) {
	root, err := torchzip.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return networksFromRoot(path, root, kind, obsHint)
}

// networksFromRoot recognises and builds the networks of a decoded file.
func networksFromRoot(path string, root pickle.Value, kind NetKind, obsHint int) ([]namedNet, error) {
	recipes, sd, err := recognise(root)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	sacDir := strings.Contains(filepath.Base(filepath.Dir(path)), "sac")
	var out []namedNet
	for _, r := range recipes {
		if r.name == "" {
			r.name = base
		}
		n, err := buildNetwork(path, sd, r, kind, obsHint, sacDir)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", path, err)
		}
		out = append(out, namedNet{r.name, n})
	}
	return out, nil
}

// recognise finds the networks in a checkpoint's object tree. Each
// recogniser below handles one layout; add new layouts here.
func recognise(root pickle.Value) ([]netRecipe, *stateDict, error) {
	// gen-1 wrapped: {"state_dict": ..., "_init_kwargs": {...}}
	if d, ok := root.(*pickle.Dict); ok {
		if sdv, ok := d.Get("state_dict"); ok {
			sd, ok := toStateDict(sdv)
			if !ok {
				return nil, nil, datafile.Invalidf("\"state_dict\" is not a dict of tensors")
			}
			kw, _ := d.Get("_init_kwargs")
			r, err := recogniseSingle(sd, "wrapped")
			if err != nil {
				return nil, nil, err
			}
			if err := applyInitKwargs(&r, kw); err != nil {
				return nil, nil, err
			}
			return []netRecipe{r}, sd, nil
		}
	}
	sd, ok := toStateDict(root)
	if !ok {
		return nil, nil, datafile.Invalidf("not a checkpoint: the file holds a %s, not a state dict of tensors or a {state_dict, _init_kwargs} wrapper", pickle.TypeName(root))
	}
	if rs := recogniseSB3(sd); rs != nil {
		return rs, sd, nil
	}
	if rs := recogniseTD3(sd); rs != nil {
		return rs, sd, nil
	}
	if rs, err := recogniseCleanRL(sd); rs != nil || err != nil {
		return rs, sd, err
	}
	r, err := recogniseSingle(sd, "plain")
	if err != nil {
		return nil, nil, err
	}
	return []netRecipe{r}, sd, nil
}

// recogniseSingle reads the upstream layouts: net_body.N (gen-1 actor),
// net.N (gen-1 critic), _network.net.N (gen-2) with _scaler.* bounds.
func recogniseSingle(sd *stateDict, format string) (netRecipe, error) {
	r := netRecipe{format: format}
	for _, prefix := range []string{"_network.net_body.", "_network.net.", "net_body.", "net."} {
		if layers := indexedLayers(sd, prefix); len(layers) > 0 {
			r.layers = layers
			if strings.Contains(prefix, "net_body") {
				r.actorOK = true
			}
			break
		}
	}
	if r.layers == nil {
		return r, datafile.Invalidf("no Linear layers found (keys: %s): unknown checkpoint layout", keyList(sd.keys))
	}
	if sd.has("_scaler.low") && sd.has("_scaler.high") {
		var err error
		if r.low, err = sd.tensors["_scaler.low"].Float32s(); err != nil {
			return r, err
		}
		if r.high, err = sd.tensors["_scaler.high"].Float32s(); err != nil {
			return r, err
		}
		r.actorOK = true
	}
	return r, nil
}

// indexedLayers collects <prefix>N.weight / <prefix>N.bias pairs ordered
// by the numeric index N.
func indexedLayers(sd *stateDict, prefix string) []layerKeys {
	type idxLayer struct {
		n int
		layerKeys
	}
	var found []idxLayer
	for _, k := range sd.keys {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		num, field, ok := strings.Cut(rest, ".")
		if !ok || field != "weight" {
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 {
			continue
		}
		l := idxLayer{n: n, layerKeys: layerKeys{name: prefix + num, weight: k}}
		if sd.has(prefix + num + ".bias") {
			l.bias = prefix + num + ".bias"
		}
		found = append(found, l)
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].n < found[j].n })
	out := make([]layerKeys, len(found))
	for i, l := range found {
		out[i] = l.layerKeys
	}
	return out
}

// namedLayers picks layers by exact names, failing if any is missing.
func namedLayers(sd *stateDict, names ...string) []layerKeys {
	out := make([]layerKeys, 0, len(names))
	for _, n := range names {
		if !sd.has(n + ".weight") {
			return nil
		}
		l := layerKeys{name: n, weight: n + ".weight"}
		if sd.has(n + ".bias") {
			l.bias = n + ".bias"
		}
		out = append(out, l)
	}
	return out
}

// applyInitKwargs takes dimensions and action bounds from gen-1's
// _init_kwargs: {obs_dim, action_dim, hidden_sizes, action_space: Box}.
func applyInitKwargs(r *netRecipe, kw pickle.Value) error {
	d, ok := kw.(*pickle.Dict)
	if !ok {
		return nil
	}
	if v, ok := d.Get("obs_dim"); ok {
		if n, ok := v.(int64); ok {
			r.obsDim = int(n)
		}
	}
	if v, ok := d.Get("action_dim"); ok {
		if n, ok := v.(int64); ok {
			r.actDim = int(n)
		}
	}
	if box, ok := d.Get("action_space"); ok && box != nil {
		low, high, err := boxBounds(box)
		if err != nil {
			return fmt.Errorf("_init_kwargs.action_space: %w", err)
		}
		if !r.actorOK {
			// A gen-1 critic carries the action space too; bounds are
			// only meaningful for actors.
			return nil
		}
		r.low, r.high = low, high
	}
	return nil
}

// boxBounds reads low and high from a pickled Box (attributes set by BUILD,
// or constructor arguments of a REDUCE).
func boxBounds(v pickle.Value) ([]float32, []float32, error) {
	o, ok := v.(*pickle.Object)
	if !ok {
		return nil, nil, datafile.Invalidf("action space is a %s, not a Box", pickle.TypeName(v))
	}
	low, okL := o.Attr("low")
	high, okH := o.Attr("high")
	if (!okL || !okH) && len(o.Args) >= 2 {
		low, high, okL, okH = o.Args[0], o.Args[1], true, true
	}
	if !okL || !okH {
		return nil, nil, datafile.Invalidf("action space %s has no low/high", o.Class)
	}
	l, err := floatValues(low)
	if err != nil {
		return nil, nil, fmt.Errorf("action space low: %w", err)
	}
	h, err := floatValues(high)
	if err != nil {
		return nil, nil, fmt.Errorf("action space high: %w", err)
	}
	if len(l) != len(h) {
		return nil, nil, datafile.Invalidf("action space low has %d values, high %d", len(l), len(h))
	}
	return l, h, nil
}

func floatValues(v pickle.Value) ([]float32, error) {
	switch x := v.(type) {
	case *torchzip.Tensor:
		return x.Float32s()
	case float64:
		return []float32{float32(x)}, nil
	case int64:
		return []float32{float32(x)}, nil
	case *pickle.List:
		return floatValues(pickle.Tuple(x.Items))
	case pickle.Tuple:
		out := make([]float32, len(x))
		for i, e := range x {
			switch n := e.(type) {
			case float64:
				out[i] = float32(n)
			case int64:
				out[i] = float32(n)
			default:
				return nil, datafile.Invalidf("element %d is a %s", i, pickle.TypeName(e))
			}
		}
		return out, nil
	}
	return nil, datafile.Invalidf("%s is not numeric", pickle.TypeName(v))
}

// buildNetwork turns a recipe into a Network, checking that the layer
// shapes chain and fit the role.
func buildNetwork(path string, sd *stateDict, r netRecipe, want NetKind, obsHint int, sacDir bool) (*Network, error) {
	n, err := buildLayers(path, sd, r)
	if err != nil {
		return nil, err
	}
	if err := setKind(n, sd, r, want, obsHint, sacDir); err != nil {
		return nil, err
	}
	return n, nil
}

// buildLayers reads a recipe's Linear layers, checking that they chain,
// and the network's parameters in state-dict order.
func buildLayers(path string, sd *stateDict, r netRecipe) (*Network, error) {
	n := &Network{Path: path, Format: r.format, Hidden: ReLU}
	data := make(map[string][]float32)
	read := func(key string, rank int) (*torchzip.Tensor, []float32, error) {
		t := sd.tensors[key]
		if len(t.Shape) != rank {
			return nil, nil, datafile.Invalidf("%s: tensor of shape %v, want rank %d", key, t.Shape, rank)
		}
		v, err := t.Float32s()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", key, err)
		}
		data[key] = v
		return t, v, nil
	}
	for i, lk := range r.layers {
		w, wv, err := read(lk.weight, 2)
		if err != nil {
			return nil, err
		}
		l := Linear{Name: lk.name, Out: w.Shape[0], In: w.Shape[1], W: wv}
		if lk.bias != "" {
			b, bv, err := read(lk.bias, 1)
			if err != nil {
				return nil, err
			}
			if b.Shape[0] != l.Out {
				return nil, datafile.Invalidf("%s: bias of shape %v, want (%d)", lk.bias, b.Shape, l.Out)
			}
			l.B = bv
		} else {
			l.B = make([]float32, l.Out) // Linear(bias=False)
		}
		if lk.weight2 != "" {
			// A second head over the same input (SAC log_std) stacked
			// below the first: outputs are (mean, log_std).
			w2, w2v, err := read(lk.weight2, 2)
			if err != nil {
				return nil, err
			}
			if w2.Shape[1] != l.In || w2.Shape[0] != l.Out {
				return nil, datafile.Invalidf("%s of shape %v does not match %s of shape %v", lk.weight2, w2.Shape, lk.weight, w.Shape)
			}
			b2 := make([]float32, l.Out)
			if lk.bias2 != "" {
				_, b2v, err := read(lk.bias2, 1)
				if err != nil {
					return nil, err
				}
				if len(b2v) != l.Out {
					return nil, datafile.Invalidf("%s has %d values, want %d", lk.bias2, len(b2v), l.Out)
				}
				b2 = b2v
			}
			l.W = append(slices.Clone(l.W), w2v...)
			l.B = append(slices.Clone(l.B), b2...)
			l.Out *= 2
		}
		if i > 0 && i == r.actionAt && l.In > n.Layers[i-1].Out {
			// The action enters here: this layer reads the previous
			// layer's output and the action.
		} else if i > 0 && n.Layers[i-1].Out != l.In {
			p := n.Layers[i-1]
			return nil, datafile.Invalidf("layer %s takes %d inputs but the layer before it, %s, gives %d (weights %dx%d then %dx%d)",
				l.Name, l.In, p.Name, p.Out, p.Out, p.In, l.Out, l.In)
		}
		n.Layers = append(n.Layers, l)
	}
	for _, k := range sd.keys { // state-dict order
		if v, ok := data[k]; ok {
			name := k
			if r.format == "sb3" {
				// One policy.pth holds every network: name parameters
				// within their network ("mu.0.weight" in actor and
				// actor_target alike) so networks compare by name.
				name = strings.TrimPrefix(k, r.name+".")
			}
			n.Params = append(n.Params, Param{Name: name, Shape: slices.Clone(sd.tensors[k].Shape), Data: v})
		}
	}

	return n, nil
}

// setKind decides how a network's outputs are read (from the recipe, the
// caller's wish and the shapes) and sets its dimensions and bounds.
func setKind(n *Network, sd *stateDict, r netRecipe, want NetKind, obsHint int, sacDir bool) error {
	in, out := n.Layers[0].In, n.Layers[len(n.Layers)-1].Out
	kind := r.kind
	if kind == "" {
		switch {
		case !r.actorOK:
			kind = KindCritic
		case sacDir || (r.low != nil && out == 2*len(r.low)):
			kind = KindSACActor
		default:
			kind = KindActor
		}
	}
	if want != "" {
		if (want == KindCritic) != (kind == KindCritic) && !r.eitherKind {
			return datafile.Invalidf("expected a %s but the keys (%s) make it a %s", want, keyList(sd.keys), kind)
		}
		kind = want
	}
	if kind == KindCritic && r.format == "sb3" && out > 1 {
		// sb3-contrib TQC: each critic outputs n_quantiles values.
		kind = KindQuantileCritic
	}
	n.Kind = kind
	n.MeanClip = r.meanClip
	switch kind {
	case KindCritic, KindQuantileCritic:
		if out != 1 && kind == KindCritic {
			return datafile.Invalidf("critic's last layer %s has %d outputs, want 1", n.Layers[len(n.Layers)-1].Name, out)
		}
		obs := r.obsDim
		if obs == 0 {
			obs = obsHint
		}
		if a := r.actionAt; a > 0 {
			n.ActionAt = a
			n.ObsDim, n.ActDim = in, n.Layers[a].In-n.Layers[a-1].Out
			if obs > 0 && obs != in {
				return datafile.Invalidf("critic's first layer %s takes the observation, %d inputs, but the observation size is %d", n.Layers[0].Name, in, obs)
			}
		} else if obs > 0 {
			if obs >= in {
				return datafile.Invalidf("critic takes %d inputs, not more than its observation size %d", in, obs)
			}
			n.ObsDim, n.ActDim = obs, in-obs
			if r.actDim > 0 && r.actDim != in-obs {
				return datafile.Invalidf("critic takes %d inputs but obs_dim %d + action_dim %d = %d", in, obs, r.actDim, obs+r.actDim)
			}
		}
	default:
		n.ObsDim = in
		per := 1
		if kind == KindSACActor {
			per = 2
		}
		if out%per != 0 {
			return datafile.Invalidf("SAC actor's last layer has %d outputs, not 2*action_dim", out)
		}
		n.ActDim = out / per
		if r.obsDim > 0 && r.obsDim != in {
			return datafile.Invalidf("actor takes %d inputs but obs_dim is %d", in, r.obsDim)
		}
		if r.actDim > 0 && r.actDim != n.ActDim {
			return datafile.Invalidf("%s's last layer has %d outputs but action_dim is %d", kind, out, r.actDim)
		}
		if r.low != nil {
			if len(r.low) != n.ActDim || len(r.high) != n.ActDim {
				return datafile.Invalidf("%s has %d actions but the action bounds have %d values", kind, n.ActDim, len(r.low))
			}
			if err := checkBounds(r.low, r.high); err != nil {
				return err
			}
			n.Low, n.High = r.low, r.high
		}
	}
	return nil
}

// checkBounds refuses action bounds that are not numbers, or a low above
// its high: every action scaled by them would be NaN.
func checkBounds(low, high []float32) error {
	for i := range low {
		if !(low[i] <= high[i]) {
			return datafile.Invalidf("action bounds [%v, %v] of action %d are not numbers low <= high", low[i], high[i], i)
		}
	}
	return nil
}

func keyList(keys []string) string {
	if len(keys) > 8 {
		return strings.Join(keys[:8], ", ") + fmt.Sprintf(", ... (%d keys)", len(keys))
	}
	return strings.Join(keys, ", ")
}

// recogniseSB3 reads a Stable-Baselines3 TD3/SAC policy.pth: actor.mu.N,
// actor_target.mu.N, critic.qfK.N, critic_target.qfK.N (TD3), and for SAC
// actor.latent_pi.N + actor.mu + actor.log_std.
func recogniseSB3(sd *stateDict) []netRecipe {
	var out []netRecipe
	for _, a := range []string{"actor", "actor_target"} {
		// SAC: latent_pi.N then the mu head. Without gSDE, log_std is a
		// second Linear head of the same width, stacked into one
		// 2*action_dim output layer. With gSDE, log_std is a noise matrix
		// (no part in the deterministic action) and mu is
		// Sequential(Linear, Hardtanh(-clip_mean, clip_mean)): mu.0.
		if latent := indexedLayers(sd, a+".latent_pi."); len(latent) > 0 {
			switch {
			case sd.has(a + ".mu.weight"):
				head := layerKeys{name: a + ".mu", weight: a + ".mu.weight", bias: a + ".mu.bias"}
				kind := KindActor // gSDE with clip_mean 0: tanh(mu)
				if sd.has(a + ".log_std.weight") {
					head.weight2, head.bias2 = a+".log_std.weight", a+".log_std.bias"
					kind = KindSACActor
				}
				if !sd.has(head.bias) {
					head.bias = ""
				}
				if head.bias2 != "" && !sd.has(head.bias2) {
					head.bias2 = ""
				}
				out = append(out, netRecipe{name: a, format: "sb3", layers: append(latent, head), actorOK: true, kind: kind})
			case sd.has(a + ".mu.0.weight"):
				head := namedLayers(sd, a+".mu.0")
				out = append(out, netRecipe{name: a, format: "sb3", layers: append(latent, head...), actorOK: true,
					kind: KindActor, meanClip: sb3DefaultClipMean})
			}
			continue
		}
		if layers := indexedLayers(sd, a+".mu."); len(layers) > 0 {
			out = append(out, netRecipe{name: a, format: "sb3", layers: layers, actorOK: true, kind: KindActor})
		}
	}
	for _, c := range []string{"critic", "critic_target"} {
		for q := 0; ; q++ {
			prefix := fmt.Sprintf("%s.qf%d.", c, q)
			layers := indexedLayers(sd, prefix)
			if len(layers) == 0 {
				break
			}
			out = append(out, netRecipe{name: strings.TrimSuffix(prefix, "."), format: "sb3", layers: layers, kind: KindCritic})
		}
	}
	return out
}

// recogniseTD3 reads the original TD3 code's files (Fujimoto et al.):
// actor l1..l3; critic l1..l6 holding two Q heads, l1-l3 and l4-l6.
func recogniseTD3(sd *stateDict) []netRecipe {
	if !sd.has("l1.weight") {
		return nil
	}
	if sd.has("l6.weight") {
		q1 := namedLayers(sd, "l1", "l2", "l3")
		q2 := namedLayers(sd, "l4", "l5", "l6")
		if q1 == nil || q2 == nil {
			return nil
		}
		return []netRecipe{
			{name: "q1", format: "td3", layers: q1, kind: KindCritic},
			{name: "q2", format: "td3", layers: q2, kind: KindCritic},
		}
	}
	if l := namedLayers(sd, "l1", "l2", "l3"); l != nil {
		if ddpgCriticShapes(sd) {
			// DDPG.py's critic: l2 reads l1's output and the action.
			return []netRecipe{{format: "td3", layers: l, kind: KindCritic, actionAt: 1}}
		}
		// The actor outputs max_action*tanh(l3); max_action is not saved,
		// so Low and High stay nil for the caller to fill in. The same
		// code's OurDDPG saves its one critic with these keys too.
		return []netRecipe{{format: "td3", layers: l, actorOK: true, kind: KindActor, eitherKind: true}}
	}
	return nil
}

// ddpgCriticShapes reports the shapes of sfujim/TD3's DDPG.py critic: l2
// reads more inputs than l1 writes (l1's output and the action), and l3
// reads what l2 writes. A chain of l1..l3 that does not fit never loads.
func ddpgCriticShapes(sd *stateDict) bool {
	w1, w2, w3 := sd.tensors["l1.weight"], sd.tensors["l2.weight"], sd.tensors["l3.weight"]
	return len(w1.Shape) == 2 && len(w2.Shape) == 2 && len(w3.Shape) == 2 &&
		w2.Shape[1] > w1.Shape[0] && w3.Shape[1] == w2.Shape[0]
}

// recogniseCleanRL reads CleanRL's files: TD3/DDPG actor fc1, fc2, fc_mu
// and SAC actor fc1, fc2, fc_mean + fc_logstd, with buffers action_scale and
// action_bias; QNetwork fc1, fc2, fc3.
func recogniseCleanRL(sd *stateDict) ([]netRecipe, error) {
	if !sd.has("fc1.weight") {
		return nil, nil
	}
	if l := namedLayers(sd, "fc1", "fc2", "fc_mu"); l != nil {
		r := netRecipe{format: "cleanrl", layers: l, actorOK: true, kind: KindActor}
		if err := cleanRLBounds(sd, &r); err != nil {
			return nil, err
		}
		return []netRecipe{r}, nil
	}
	if l := namedLayers(sd, "fc1", "fc2", "fc_mean"); l != nil && sd.has("fc_logstd.weight") {
		// SAC actor: the fc_logstd head is stacked under fc_mean.
		l[2].weight2, l[2].bias2 = "fc_logstd.weight", "fc_logstd.bias"
		if !sd.has(l[2].bias2) {
			l[2].bias2 = ""
		}
		r := netRecipe{format: "cleanrl", layers: l, actorOK: true, kind: KindSACActor}
		if err := cleanRLBounds(sd, &r); err != nil {
			return nil, err
		}
		return []netRecipe{r}, nil
	}
	if l := namedLayers(sd, "fc1", "fc2", "fc3"); l != nil {
		return []netRecipe{{format: "cleanrl", layers: l, kind: KindCritic}}, nil
	}
	return nil, nil
}

// cleanRLBounds turns CleanRL's action_scale/action_bias buffers into
// bounds: a = tanh(x)*scale + bias, so low = bias-scale, high = bias+scale.
func cleanRLBounds(sd *stateDict, r *netRecipe) error {
	if !sd.has("action_scale") || !sd.has("action_bias") {
		return nil
	}
	scale, err := sd.tensors["action_scale"].Float32s()
	if err != nil {
		return err
	}
	bias, err := sd.tensors["action_bias"].Float32s()
	if err != nil {
		return err
	}
	if len(scale) != len(bias) {
		return datafile.Invalidf("action_scale has %d values, action_bias %d", len(scale), len(bias))
	}
	r.low, r.high = make([]float32, len(scale)), make([]float32, len(scale))
	for i := range scale {
		r.low[i], r.high[i] = bias[i]-scale[i], bias[i]+scale[i]
	}
	return nil
}
