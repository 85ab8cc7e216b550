package pickle

import "errors"

// rebuildBuiltin interprets the Python callables any pickle may use to
// build containers and bytes. handled is false for anything else.
func rebuildBuiltin(g Global, args Tuple) (v Value, handled bool, err error) {
	switch g {
	case Global{"collections", "OrderedDict"}:
		d := &Dict{Ordered: true}
		if len(args) > 0 {
			// OrderedDict(iterable of pairs), as some writers pickle it.
			if l, ok := args[0].(*List); ok {
				for _, it := range l.Items {
					if p, ok := it.(Tuple); ok && len(p) == 2 {
						d.Set(p[0], p[1])
					}
				}
			}
		}
		return d, true, nil
	case Global{"_codecs", "encode"}:
		// Protocol 2 pickles bytes as _codecs.encode(str, "latin1").
		if len(args) >= 1 {
			if s, ok := args[0].(string); ok {
				b := make([]byte, 0, len(s))
				for _, r := range s {
					if r > 0xff {
						return nil, true, errors.New("non-latin1 character in encoded bytes")
					}
					b = append(b, byte(r))
				}
				return b, true, nil
			}
		}
		return nil, false, nil
	case Global{"builtins", "set"}, Global{"builtins", "frozenset"}, Global{"__builtin__", "set"}:
		l := &List{}
		if len(args) == 1 {
			if src, ok := args[0].(*List); ok {
				l.Items = src.Items[:len(src.Items):len(src.Items)]
			}
		}
		return l, true, nil
	}
	return nil, false, nil
}
