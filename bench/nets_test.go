package bench

import (
	"errors"
	"strings"
	"testing"

	"github.com/rleval/rleval/loaders"
)

func TestRunNetsTakesTheRunsActorAndCritics(t *testing.T) {
	a, c1, _ := Synthetic(3, 1, []int{8}, 1)
	r := &loaders.Run{Dir: "runs/x", Nets: map[loaders.Role]loaders.Part[*loaders.Network]{loaders.RoleActor: {V: a}, loaders.RoleCritic1: {V: c1}}}
	n, err := RunNets(r)
	if err != nil || n.Actor != a || n.Critic1 != c1 || n.Critic2 != nil {
		t.Fatalf("RunNets = %+v, %v", n, err)
	}
	r.Nets[loaders.RoleCritic1] = loaders.Part[*loaders.Network]{Err: errors.New("load runs/x/critic1.pt: truncated")}
	if _, err := RunNets(r); err == nil || !strings.Contains(err.Error(), "runs/x") || !strings.Contains(err.Error(), "critic1.pt") {
		t.Errorf("missing critic1: %v, want an error naming the run and the file", err)
	}
}
