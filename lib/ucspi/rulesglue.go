package ucspi

import (
	"tinymx/lib/cdb"
	"tinymx/lib/rules"
)

// lookupRules finds the rule for a connection (A2.3's order) and decodes
// it: deny, and the variables to set in rule order. Entries without '='
// set nothing, as in the C program.
func lookupRules(db *cdb.CDB, ip string, host, info *string) (bool, []ruleVar, error) {
	_, data, found, err := rules.Lookup(db, ip, host, info)
	if err != nil || !found {
		return false, nil, err
	}
	deny, vars := rules.Decode(data)
	out := make([]ruleVar, 0, len(vars))
	for _, v := range vars {
		if v.HasValue {
			out = append(out, ruleVar{v.Name, v.Value})
		}
	}
	return deny, out, nil
}
