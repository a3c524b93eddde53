# dualtrack's built-in rule pack written in Rego: the benchmark peer run by regorus
# (bench/regorus-peer). Same rules, same thresholds, same derived facts as the Cedar pack
# in policies/ with the facts of engine/src/derive.rs, but every derivation is done here.
#
#   data   the inventory JSON as it is: data.systems, data.identities, data.entitlements
#   input  {"as_of": "2026-10-01"} (YYYY-MM-DD, or an RFC 3339 timestamp)
#   output findings: a set of {"rule", "identity"} for identity rules and
#          {"rule", "identity", "entitlement"} for entitlement rules
#
# As in dualtrack, a fact that cannot be derived (no date recorded) is absent, not null or
# zero: a comparison on it is undefined, so the rule does not fire, and "missing" tests
# are written `not x.fact`.
package dualtrack

import rego.v1

# ---------------------------------------------------------------------------------------
# Function catalog (policies/functions.yaml). `*` matches any run of characters; ASCII
# letters match either case. The SoD conflict matrix (policies/sox/sod-matrix.yaml).

mappings := [
	{"permission": "XK01", "functions": ["vendor-master-maintain"]},
	{"permission": "XK02", "functions": ["vendor-master-maintain"]},
	{"permission": "FK01", "functions": ["vendor-master-maintain"]},
	{"permission": "FK02", "functions": ["vendor-master-maintain"]},
	{"permission": "F110", "functions": ["payment-approve"]},
	{"permission": "FI12", "functions": ["bank-account-maintain"]},
	{"permission": "ME21N", "functions": ["purchase-order-create"]},
	{"permission": "MRBR", "functions": ["invoice-approve"]},
	{"permission": "FB50", "functions": ["journal-entry-create"]},
	{"permission": "FB01", "functions": ["journal-entry-create"]},
	{"permission": "FBV0", "functions": ["journal-entry-approve"]},
	{"permission": "SU01", "functions": ["user-admin"]},
]

broad_permissions := [
	"*AdministratorAccess*",
	"Owner",
	"SAP_ALL",
	"*superuser*",
	"*FullAccess*",
	"admin",
	"*:admin",
]

conflicts := [
	{"id": "SOD-001", "functions": ["vendor-master-maintain", "payment-approve"]},
	{"id": "SOD-002", "functions": ["bank-account-maintain", "payment-approve"]},
	{"id": "SOD-003", "functions": ["purchase-order-create", "invoice-approve"]},
	{"id": "SOD-004", "functions": ["journal-entry-create", "journal-entry-approve"]},
	{"id": "SOD-005", "functions": ["payroll-maintain", "payroll-approve"]},
	{"id": "SOD-006", "functions": ["user-admin", "journal-entry-create"]},
	{"id": "SOD-007", "functions": ["user-admin", "payment-approve"]},
	{"id": "SOD-008", "functions": ["code-change-develop", "production-deploy"]},
]

# ---------------------------------------------------------------------------------------
# Catalog indexes, built once. Plain names (no `*`) are looked up in an object by
# lower-cased permission; patterns go through glob.match (null delimiters: `*` matches
# anything). Each distinct permission of the inventory is matched once, not each grant.

is_pattern(p) if contains(p, "*")

plain_mappings := {p: fs |
	some m in mappings
	not is_pattern(m.permission)
	p := lower(m.permission)
	fs := {f |
		some m2 in mappings
		lower(m2.permission) == p
		some f in m2.functions
	}
}

pattern_mappings := [m | some m in mappings; is_pattern(m.permission)]

plain_broad := {lower(p) | some p in broad_permissions; not is_pattern(p)}

pattern_broad := [lower(p) | some p in broad_permissions; is_pattern(p)]

permissions := {lower(e.permission) | some e in data.entitlements}

broad := {p | some p in permissions; is_broad(p)}

is_broad(p) if p in plain_broad

is_broad(p) if {
	some g in pattern_broad
	glob.match(g, null, p)
}

# Catalog functions of each distinct (lower-cased) permission.
permission_functions := {p: fs |
	some p in permissions
	fs := object.get(plain_mappings, p, set()) | {f |
		some m in pattern_mappings
		glob.match(lower(m.permission), null, p)
		some f in m.functions
	}
}

# ---------------------------------------------------------------------------------------
# Helpers.

# A field that is present and not null, else `fallback`.
field(obj, key, fallback) := v if {
	v := obj[key]
	v != null
} else := fallback

# Nanoseconds since the epoch of `YYYY-MM-DD` (midnight UTC) or an RFC 3339 timestamp.
date_ns(s) := time.parse_ns("2006-01-02", t) if {
	t := trim_space(s)
	not contains(t, ":")
} else := time.parse_rfc3339_ns(trim_space(s))

as_of_ns := date_ns(input.as_of)

day_ns := 86400000000000

# Whole days in a span of nanoseconds, truncated toward zero (chrono's num_days).
whole_days(span) := (span - (span % day_ns)) / day_ns

# Days from the date in obj[key] to as-of, and from as-of to it; null when there is none.
days_since(obj, key) := whole_days(as_of_ns - date_ns(v)) if {
	v := obj[key]
	v != null
} else := null

days_until(obj, key) := whole_days(date_ns(v) - as_of_ns) if {
	v := obj[key]
	v != null
} else := null

# Every distinct date written on an entitlement, with the days from it to as-of: dates
# repeat across grants, so each is parsed once.
entitlement_dates := {d |
	some e in data.entitlements
	some k in ["granted_at", "last_used"]
	d := e[k]
	d != null
}

days_ago := {d: whole_days(as_of_ns - date_ns(d)) | some d in entitlement_dates}

# True when a text field holds something other than blanks.
has_text(obj, key) := true if {
	v := obj[key]
	is_string(v)
	trim_space(v) != ""
} else := true if {
	is_number(obj[key])
} else := false

# Drops the absent (null) facts.
present(facts) := {k: v | some k, v in facts; v != null}

ent_id(e) := trim_space(e.id) if {
	is_string(e.id)
	trim_space(e.id) != ""
} else := concat(":", [e.identity, e.system, e.permission])

truthy(v) if v == true

truthy(v) if {
	is_string(v)
	lower(v) == "true"
}

is_shared(i) := true if {
	some k in ["shared", "generic"]
	truthy(i.tags[k])
} else := false

# A last authentication, or a last use of any entitlement.
has_usage_data(i, mine) := true if {
	field(i, "last_seen", null) != null
} else := true if {
	some x in mine
	x.days_idle
} else := false

pair_key(a, b) := concat("+", sort([a, b]))

# ---------------------------------------------------------------------------------------
# Indexes of the inventory, built once.

systems := {s.id: s | some s in data.systems}

identities := {i.id: i | some i in data.identities}

# Positions in data.entitlements of each identity's entitlements.
entitlements_of[iid] contains n if {
	some n, e in data.entitlements
	iid := e.identity
}

# ---------------------------------------------------------------------------------------
# Derived facts of every entitlement (by position) and every identity (by id).

ent := {n: facts |
	some n, e in data.entitlements
	sys := systems[e.system]
	lp := lower(e.permission)
	facts := present({
		"id": ent_id(e),
		"identity": e.identity,
		"system": e.system,
		"sox": object.get(sys, "sox_in_scope", false) == true,
		"privileged": object.get(e, "privileged", false) == true,
		"has_justification": has_text(e, "justification"),
		"broad": lp in broad,
		"functions": {trim_space(f) | some f in object.get(e, "functions", [])} | permission_functions[lp],
		"days_idle": object.get(days_ago, object.get(e, "last_used", null), null),
		"days_since_granted": object.get(days_ago, object.get(e, "granted_at", null), null),
	})
}

owner_facts(i) := {"has_owner": false, "owner_status": "none", "owner_is_human": false} if {
	field(i, "owner", null) == null
} else := {
	"has_owner": true,
	"owner_status": field(o, "status", "active"),
	"owner_is_human": o.kind == "human",
} if {
	o := identities[i.owner]
} else := {"has_owner": true, "owner_status": "unknown", "owner_is_human": false}

ident := {iid: facts |
	some i in data.identities
	iid := i.id
	mine := [ent[n] | some n in object.get(entitlements_of, iid, set())]
	sox := [x | some x in mine; x.sox]
	pairs := {pair_key(a, b) |
		some s in {x.system | some x in sox}
		held := {f | some x in sox; x.system == s; some f in x.functions}
		some a in held
		some b in held
		a < b
	}
	facts := object.union(owner_facts(i), present({
		"kind": i.kind,
		"is_nhi": i.kind != "human",
		"status": field(i, "status", "active"),
		"interactive_login": field(i, "interactive_login", false) == true,
		"is_shared": is_shared(i),
		"days_since_seen": days_since(i, "last_seen"),
		"credential_age_days": days_since(i, "credential_rotated_at"),
		"credential_expires_in_days": days_until(i, "credential_expires_at"),
		"has_usage_data": has_usage_data(i, mine),
		"entitlement_count": count(mine),
		"sox_entitlement_count": count(sox),
		"functions": {f | some x in mine; some f in x.functions},
		"sox_functions": {f | some x in sox; some f in x.functions},
		"sox_same_system_pairs": pairs,
	}))
}

# ---------------------------------------------------------------------------------------
# SOC track (policies/soc/*.yaml).

nhi_credential_kinds := {"api_key", "token"}

findings contains {"rule": "SOC-CRED-001", "identity": id} if {
	some id, f in ident
	f.is_nhi
	f.credential_age_days > 90
}

findings contains {"rule": "SOC-CRED-002", "identity": id} if {
	some id, f in ident
	f.is_nhi
	f.credential_expires_in_days > 365
}

findings contains {"rule": "SOC-CRED-003", "identity": id} if {
	some id, f in ident
	f.kind in nhi_credential_kinds
	not f.credential_expires_in_days
}

findings contains {"rule": "SOC-CRED-004", "identity": id} if {
	some id, f in ident
	f.kind in nhi_credential_kinds
	not f.credential_age_days
}

findings contains {"rule": "SOC-EXC-001", "identity": x.identity, "entitlement": x.id} if {
	some x in ent
	x.privileged
	not x.has_justification
}

findings contains {"rule": "SOC-EXC-002", "identity": x.identity, "entitlement": x.id} if {
	some x in ent
	not x.privileged
	not x.has_justification
}

findings contains {"rule": "SOC-EXC-003", "identity": id} if {
	some id, f in ident
	f.is_nhi
	f.interactive_login
}

findings contains {"rule": "SOC-EXC-004", "identity": x.identity, "entitlement": x.id} if {
	some x in ent
	x.broad
	ident[x.identity].is_nhi
}

findings contains {"rule": "SOC-ORPH-001", "identity": id} if {
	some id, f in ident
	f.is_nhi
	not f.has_owner
}

findings contains {"rule": "SOC-ORPH-002", "identity": id} if {
	some id, f in ident
	f.is_nhi
	f.owner_status in {"terminated", "disabled", "unknown"}
}

findings contains {"rule": "SOC-ORPH-003", "identity": id} if {
	some id, f in ident
	f.kind == "human"
	f.status == "terminated"
	f.entitlement_count > 0
}

findings contains {"rule": "SOC-ORPH-004", "identity": id} if {
	some id, f in ident
	f.is_nhi
	f.has_owner
	f.owner_status == "active"
	not f.owner_is_human
}

findings contains {"rule": "SOC-STALE-001", "identity": x.identity, "entitlement": x.id} if {
	some x in ent
	x.days_idle > 90
}

findings contains {"rule": "SOC-STALE-002", "identity": x.identity, "entitlement": x.id} if {
	some x in ent
	not x.days_idle
	x.days_since_granted > 30
}

findings contains {"rule": "SOC-STALE-003", "identity": id} if {
	some id, f in ident
	f.status == "active"
	f.days_since_seen > 90
	f.entitlement_count > 0
}

findings contains {"rule": "SOC-UNV-001", "identity": id} if {
	some id, f in ident
	not f.has_usage_data
	f.entitlement_count > 0
}

findings contains {"rule": "SOC-UNV-002", "identity": x.identity, "entitlement": x.id} if {
	some x in ent
	not x.days_idle
	not x.days_since_granted
}

# ---------------------------------------------------------------------------------------
# SOX track (policies/sox/privileged.yaml, orphaned.cedar, sod-matrix.yaml).

findings contains {"rule": "SOX-PRIV-001", "identity": x.identity, "entitlement": x.id} if {
	some x in ent
	x.sox
	x.privileged
	not x.has_justification
}

findings contains {"rule": "SOX-PRIV-002", "identity": x.identity, "entitlement": x.id} if {
	some x in ent
	x.sox
	x.privileged
	x.days_idle > 30
}

findings contains {"rule": "SOX-PRIV-003", "identity": x.identity, "entitlement": x.id} if {
	some x in ent
	x.sox
	x.privileged
	not x.days_idle
	x.days_since_granted > 30
}

findings contains {"rule": "SOX-PRIV-004", "identity": x.identity, "entitlement": x.id} if {
	some x in ent
	x.sox
	x.privileged
	not x.days_idle
	not x.days_since_granted
}

findings contains {"rule": "SOX-NHI-001", "identity": id} if {
	some id, f in ident
	f.is_shared
	f.sox_entitlement_count > 0
}

findings contains {"rule": "SOX-NHI-002", "identity": id} if {
	some id, f in ident
	f.is_nhi
	f.interactive_login
	f.sox_entitlement_count > 0
}

findings contains {"rule": "SOX-ORPH-001", "identity": id} if {
	some id, f in ident
	f.kind == "human"
	f.status == "terminated"
	f.sox_entitlement_count > 0
}

findings contains {"rule": "SOX-ORPH-002", "identity": id} if {
	some id, f in ident
	f.is_nhi
	f.sox_entitlement_count > 0
	not accountable(f)
}

accountable(f) if {
	f.has_owner
	f.owner_status == "active"
	f.owner_is_human
}

# Each conflict is three rules: SOX-SOD-nnn (both functions on one in-scope system),
# SOX-SODX-nnn (across systems, at least one of the two held on an in-scope system) and
# SOC-SOD-nnn (both functions held on any systems).
sod := [{"within": concat("", ["SOX-SOD-", n]), "across": concat("", ["SOX-SODX-", n]), "soc": concat("", ["SOC-SOD-", n]), "a": a, "b": b, "key": pair_key(a, b)} |
	some c in conflicts
	n := trim_prefix(c.id, "SOD-")
	[a, b] := c.functions
]

findings contains {"rule": c.within, "identity": id} if {
	some id, f in ident
	count(f.sox_same_system_pairs) > 0
	some c in sod
	c.key in f.sox_same_system_pairs
}

findings contains {"rule": c.across, "identity": id} if {
	some id, f in ident
	count(f.functions) > 1
	some c in sod
	c.a in f.functions
	c.b in f.functions
	count({c.a, c.b} & f.sox_functions) > 0
	not c.key in f.sox_same_system_pairs
}

findings contains {"rule": c.soc, "identity": id} if {
	some id, f in ident
	count(f.functions) > 1
	some c in sod
	c.a in f.functions
	c.b in f.functions
}
