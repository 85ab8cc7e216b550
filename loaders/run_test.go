package loaders

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestProblemsReportEveryPart sets an error on every Part of a Run, found
// by reflection, so that a part added to Run but not to partErrs fails
// here rather than vanishing from the report.
func TestProblemsReportEveryPart(t *testing.T) {
	r := &Run{Nets: map[Role]Part[*Network]{}}
	var want []error
	v := reflect.ValueOf(r).Elem()
	for i := range v.NumField() {
		f, sf := v.Field(i), v.Type().Field(i)
		switch {
		case strings.HasPrefix(sf.Type.Name(), "Part["):
			err := fmt.Errorf("load %s: broken: %w", sf.Name, ErrInvalid)
			f.FieldByName("Err").Set(reflect.ValueOf(&err).Elem())
			want = append(want, err)
		case sf.Name == "Nets":
			for _, role := range Roles {
				err := fmt.Errorf("load %s: broken: %w", role, ErrInvalid)
				r.Nets[role] = Part[*Network]{Err: err}
				want = append(want, err)
			}
		}
	}
	if len(want) != 4+len(Roles) {
		t.Fatalf("found %d parts in Run, want config, log, buffer, temperature and %d networks", len(want), len(Roles))
	}
	other := errors.New("load env.jsonl: broken")
	r.OtherLogErrs = []error{other}
	want = append(want, other)
	got := r.Problems()
	for _, err := range want {
		if !slices.Contains(got, err) {
			t.Errorf("Problems() = %v, missing %v", got, err)
		}
	}
	if len(got) != len(want) {
		t.Errorf("Problems() has %d errors, want %d", len(got), len(want))
	}
}

// TestNetIsNilForANetworkThatDidNotLoad pins Net on a role that failed,
// one never looked for, and one that loaded.
func TestNetIsNilForANetworkThatDidNotLoad(t *testing.T) {
	a := &Network{ObsDim: 3}
	r := &Run{Nets: map[Role]Part[*Network]{
		RoleActor:   {Path: "actor.pt", V: a},
		RoleCritic1: {Path: "critic1.pt", Err: ErrNotExist},
	}}
	if r.Net(RoleActor) != a || r.Net(RoleCritic1) != nil || r.Net(RoleCritic2) != nil {
		t.Fatalf("Net: actor %v, critic1 %v, critic2 %v", r.Net(RoleActor), r.Net(RoleCritic1), r.Net(RoleCritic2))
	}
}
