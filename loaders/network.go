package loaders

// NetKind says how a network's output is interpreted.
type NetKind string

// The network kinds rleval evaluates.
const (
	// KindActor is a deterministic actor: a = low + (tanh(MLP(obs))+1)*(high-low)/2.
	KindActor NetKind = "actor"
	// KindSACActor is a Gaussian actor whose last layer has 2*ActDim outputs
	// (mean, log_std); its deterministic action is the scaled tanh of the mean.
	KindSACActor NetKind = "sac_actor"
	// KindCritic is a Q network: q = MLP(concat(obs, action)), one output.
	KindCritic NetKind = "critic"
	// KindQuantileCritic is a distributional critic (sb3-contrib TQC): its
	// outputs are quantiles of the return and its Q is their mean; twin
	// quantile critics combine by their mean, not their minimum.
	KindQuantileCritic NetKind = "quantile_critic"
)

// Activation names the element-wise function between hidden layers.
type Activation string

// Activations found in the checkpoints rleval reads.
const (
	ReLU      Activation = "relu"
	Tanh      Activation = "tanh"
	ELU       Activation = "elu"
	SiLU      Activation = "silu"
	LeakyReLU Activation = "leaky_relu"
)

// InputNorm normalises observations before a network's first layer, as
// Stable-Baselines3's VecNormalize does: clip((o - Mean) / Std, -Clip, Clip)
// with Std = sqrt(var + eps) computed once in float32. A critic normalises
// only the observation part of its input, never the action.
type InputNorm struct {
	Mean, Std []float32
	Clip      float32
}

// Linear is one fully connected layer, y = W x + b.
type Linear struct {
	// Name is the layer's key prefix in the state dict, e.g. "net_body.0".
	Name string
	// In and Out are the input and output widths.
	In, Out int
	// W holds Out×In weights, row-major (torch's (out, in) layout).
	W []float32
	// B holds Out biases.
	B []float32
}

// Param is one named parameter or buffer tensor of a state dict, in file order.
type Param struct {
	Name  string
	Shape []int
	Data  []float32
}

// Network is a feed-forward MLP read from a checkpoint: the single
// description of a network that graph builds, inspect prints and jobs use.
type Network struct {
	// Path is the file the network was read from.
	Path string
	// Format names the checkpoint layout: "wrapped" (gen-1 models/*.pth),
	// "plain" (gen-2 agent_<algo>/*.pt), "sb3", "cleanrl" or "td3".
	Format string
	// Kind says how outputs are interpreted.
	Kind NetKind
	// Layers are the Linear layers in evaluation order.
	Layers []Linear
	// Hidden is the activation applied after every layer but the last.
	Hidden Activation
	// ObsDim and ActDim are the observation and action sizes. A critic's
	// input width is ObsDim+ActDim.
	ObsDim, ActDim int
	// ActionAt is the index of the layer a critic's action enters. 0, every
	// critic but one, is the first layer, reading concat(obs, action);
	// sfujim/TD3's DDPG.py critic feeds the observation alone to l1 and
	// concat(l1's output, action) to l2: ActionAt 1, that layer reading
	// ActDim inputs more than the layer before it writes. A critic is
	// evaluated on concat(obs, action) rows either way (InputWidth).
	ActionAt int
	// Low and High are the action bounds of an actor (ActDim each); nil for
	// critics.
	Low, High []float32
	// MeanClip, when > 0, clamps an actor's pre-tanh output to
	// [-MeanClip, MeanClip] (Stable-Baselines3 SAC with gSDE: 2).
	MeanClip float32
	// InputNorm, when not nil, normalises observations first (RL Zoo's
	// vecnormalize.pkl).
	InputNorm *InputNorm
	// Params lists every parameter tensor (weights and biases, not buffers)
	// in state-dict order, for parameter counts, L2 distances and histograms.
	Params []Param
}

// NumParams returns the number of trainable parameters (weights and biases).
func (n *Network) NumParams() int {
	c := 0
	for _, l := range n.Layers {
		c += len(l.W) + len(l.B)
	}
	return c
}

// InputWidth returns the width of the rows the network evaluates: for a
// critic ObsDim+ActDim whichever layer its action enters, for an actor
// ObsDim (its first layer's inputs).
func (n *Network) InputWidth() int {
	if len(n.Layers) == 0 {
		return 0
	}
	w := n.Layers[0].In
	if a := n.ActionAt; a > 0 && a < len(n.Layers) {
		w += n.Layers[a].In - n.Layers[a-1].Out
	}
	return w
}

// Widths returns the layer widths from input to output, e.g. [3 256 256 1].
func (n *Network) Widths() []int {
	if len(n.Layers) == 0 {
		return nil
	}
	w := []int{n.Layers[0].In}
	for _, l := range n.Layers {
		w = append(w, l.Out)
	}
	return w
}
