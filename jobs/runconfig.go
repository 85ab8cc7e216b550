package jobs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/rleval/rleval/loaders"
)

// maxGroupConfigBytes bounds what is read of a config to group by.
const maxGroupConfigBytes = 16 << 20

// cleanRLName is CleanRL's run folder name, <env>__<exp>__<seed>__<time>.
var cleanRLName = regexp.MustCompile(`^([^_].*?)__(.+)__(\d+)__(\d+)$`)

// RunConfig reads a run's configuration as flat "dotted.key" → value
// strings (lists as "[a, b]", an alias as "*name"): config.yaml, or RL
// Zoo's args.yml and config.yml (in the run folder or its <env>/
// subfolder, OrderedDicts dumped as [key, value] pairs), or for CleanRL
// the env_id, exp_name and seed in the run folder's name.
func RunConfig(runDir string) (map[string]string, error) {
	out, err := readConfigYAML(filepath.Join(runDir, "config.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		return out, err
	}
	// RL Zoo: args.yml (the command line) and config.yml (hyperparameters).
	var zoo map[string]string
	for _, d := range zooConfigDirs(runDir) {
		for _, name := range []string{"args.yml", "config.yml"} {
			m, err := readConfigYAML(filepath.Join(d, name))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if zoo == nil {
				zoo = map[string]string{}
			}
			for k, v := range m {
				zoo[strings.TrimSuffix(name, ".yml")+"."+k] = v
			}
		}
		if zoo != nil {
			return zoo, nil
		}
	}
	if m := cleanRLName.FindStringSubmatch(filepath.Base(filepath.Clean(runDir))); m != nil {
		return map[string]string{"env_id": m[1], "exp_name": m[2], "seed": m[3]}, nil
	}
	return nil, err
}

// zooConfigDirs are where an RL Zoo run keeps args.yml and config.yml:
// the run folder, or its one subfolder named after the environment.
func zooConfigDirs(runDir string) []string {
	dirs := []string{runDir}
	entries, _ := os.ReadDir(runDir)
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join(runDir, e.Name()))
		}
	}
	return dirs
}

// readConfigYAML reads one YAML config file flattened. Like the loaders it
// reads only a regular file (a FIFO would block the batch).
func readConfigYAML(p string) (map[string]string, error) {
	f, _, err := loaders.OpenRegular(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxGroupConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if len(data) > maxGroupConfigBytes {
		return nil, fmt.Errorf("read %s: larger than %d bytes", p, maxGroupConfigBytes)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("read %s: invalid YAML: %v", p, err)
	}
	out := map[string]string{}
	if len(doc.Content) > 0 {
		root := doc.Content[0]
		if pairs := orderedDictPairs(root); pairs != nil {
			root = pairs
		}
		flattenYAML(root, "", out, 0)
	}
	return out, nil
}

// orderedDictPairs turns RL Zoo's dump of an OrderedDict — a sequence
// holding one sequence of [key, value] pairs, tagged
// !!python/object/apply:collections.OrderedDict (a tag is data here,
// never code) — into a mapping node; nil for anything else.
func orderedDictPairs(n *yaml.Node) *yaml.Node {
	if n.Kind != yaml.SequenceNode || len(n.Content) != 1 || n.Content[0].Kind != yaml.SequenceNode {
		return nil
	}
	m := &yaml.Node{Kind: yaml.MappingNode}
	for _, p := range n.Content[0].Content {
		if p.Kind != yaml.SequenceNode || len(p.Content) != 2 || p.Content[0].Kind != yaml.ScalarNode {
			return nil
		}
		m.Content = append(m.Content, p.Content[0], p.Content[1])
	}
	return m
}

func flattenYAML(n *yaml.Node, prefix string, out map[string]string, depth int) {
	if depth > 32 {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if prefix != "" {
				k = prefix + "." + k
			}
			flattenYAML(n.Content[i+1], k, out, depth+1)
		}
	default:
		out[prefix] = yamlValue(n, depth)
	}
}

func yamlValue(n *yaml.Node, depth int) string {
	switch n.Kind {
	case yaml.SequenceNode:
		parts := make([]string, len(n.Content))
		for i, c := range n.Content {
			parts[i] = yamlValue(c, depth+1)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case yaml.MappingNode:
		m := map[string]string{}
		flattenYAML(n, "", m, depth+1)
		keys := slices.Sorted(mapsKeys(m))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + m[k]
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case yaml.AliasNode:
		// An alias stays its name: expanding it would let a small hostile
		// file ("billion laughs") grow without bound.
		return "*" + n.Value
	}
	return n.Value
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
