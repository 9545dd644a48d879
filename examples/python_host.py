#!/usr/bin/env python3
"""A Python host embedding Tollgate through the C ABI with ctypes (no build step, no bindings).

Usage: python_host.py LIBTOLLGATE.so POLICY.pol

Compiles the policy, decides requests by slot and by name, admits/records against a per-user
budget until it is exhausted, hot-reloads through a handle (a broken version is rejected), and
prints audit records. Ownership follows tollgate.h: every *_create/tg_compile result is released
by the matching destroy/release call (here via context managers).
"""
import ctypes as C
import json
import sys


class TollgateError(RuntimeError):
    pass


def load(path):
    lib = C.CDLL(path)
    P = C.c_void_p
    sigs = {
        "tg_abi_version": (C.c_int, []),
        "tg_last_error": (C.c_char_p, []),
        "tg_status_name": (C.c_char_p, [C.c_int]),
        "tg_engine_create": (C.c_int, [P, C.POINTER(P)]),
        "tg_engine_destroy": (None, [P]),
        "tg_compile": (C.c_int, [P, C.c_char_p, C.c_size_t, C.c_char_p, C.POINTER(P)]),
        "tg_compile_file": (C.c_int, [P, C.c_char_p, C.POINTER(P)]),
        "tg_policy_release": (None, [P]),
        "tg_policy_name": (C.c_char_p, [P]),
        "tg_policy_version": (C.c_char_p, [P]),
        "tg_policy_jitted": (C.c_int, [P]),
        "tg_policy_slot": (C.c_int, [P, C.c_char_p]),
        "tg_request_create": (C.c_int, [P, C.POINTER(P)]),
        "tg_request_destroy": (None, [P]),
        "tg_request_reset": (None, [P]),
        "tg_request_set": (C.c_int, [P, C.c_char_p, C.c_char_p]),
        "tg_request_set_int": (C.c_int, [P, C.c_int, C.c_int64]),
        "tg_request_set_enum": (C.c_int, [P, C.c_int, C.c_char_p]),
        "tg_request_set_string": (C.c_int, [P, C.c_int, C.c_char_p, C.c_size_t]),
        "tg_decision_create": (C.c_int, [C.POINTER(P)]),
        "tg_decision_destroy": (None, [P]),
        "tg_decide": (C.c_int, [P, P]),
        "tg_decision_denied": (C.c_int, [P]),
        "tg_decision_deny_reason": (C.c_char_p, [P]),
        "tg_decision_route": (C.c_char_p, [P]),
        "tg_decision_model": (C.c_char_p, [P]),
        "tg_decision_max_out": (C.c_int64, [P]),
        "tg_decision_retry": (C.c_int, [P]),
        "tg_decision_backoff_ms": (C.c_int64, [P]),
        "tg_decision_audit_json": (C.c_char_p, [P, P]),
        "tg_admission_create": (C.c_int, [C.POINTER(P)]),
        "tg_admission_destroy": (None, [P]),
        "tg_admit": (C.c_int, [P, P, C.c_int64, C.c_int64, P]),
        "tg_admission_admitted": (C.c_int, [P]),
        "tg_admission_reason": (C.c_char_p, [P]),
        "tg_admission_estimated_cost": (C.c_double, [P]),
        "tg_admission_decision": (P, [P]),
        "tg_admission_audit_json": (C.c_char_p, [P, P]),
        "tg_record": (C.c_int, [P, P]),
        "tg_release": (C.c_int, [P]),
        "tg_ledger_spent": (C.c_int, [P, P, C.c_char_p, C.c_char_p, C.c_int64,
                                      C.POINTER(C.c_double)]),
        "tg_handle_create": (C.c_int, [P, P, C.POINTER(P)]),
        "tg_handle_destroy": (None, [P]),
        "tg_handle_reload": (C.c_int, [P, C.c_char_p, C.c_size_t, C.c_char_p]),
        "tg_handle_current": (P, [P]),
        "tg_handle_generation": (C.c_uint64, [P]),
        "tg_handle_decide": (C.c_int, [P, P, P]),
        "tg_policy_input_count": (C.c_int, [P]),
        "tg_policy_enum_index": (C.c_int, [P, C.c_int, C.c_char_p]),
        "tg_policy_route_name": (C.c_char_p, [P, C.c_int]),
        "tg_decide_batch": (C.c_int, [P, C.c_void_p, C.c_int, C.c_size_t, C.c_int64,
                                      C.c_void_p]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    return lib


class Value(C.Structure):
    """tg_value: one input of the bulk path (ABI 2)."""
    _fields_ = [("i", C.c_int64), ("f", C.c_double), ("str", C.c_char_p), ("len", C.c_uint32),
                ("set", C.c_uint8), ("pad", C.c_uint8 * 3)]


class Result(C.Structure):
    """tg_result: a decision as plain data (ABI 2)."""
    _fields_ = [("route", C.c_int32), ("denied", C.c_int32), ("max_out", C.c_int64),
                ("max_in", C.c_int64), ("backoff_ms", C.c_int64), ("top_k", C.c_int64),
                ("retry", C.c_int32), ("rag", C.c_int32), ("cache", C.c_int32),
                ("errors", C.c_uint32), ("deny_reason", C.c_char_p),
                ("rule_line", C.c_uint32 * 6), ("tag_count", C.c_uint32), ("pad", C.c_uint32)]


class Usage(C.Structure):
    _fields_ = [("in_tokens", C.c_int64), ("out_tokens", C.c_int64),
                ("cached_in_tokens", C.c_int64), ("cost_usd", C.c_double)]


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    lib = load(sys.argv[1])
    s = lambda b: b.decode() if b is not None else None

    def check(status):
        if status != 0:
            raise TollgateError("%s: %s" % (s(lib.tg_status_name(status)), s(lib.tg_last_error())))

    def out_ptr():
        return C.c_void_p()

    print("tollgate ABI", lib.tg_abi_version())
    engine = out_ptr()
    check(lib.tg_engine_create(None, C.byref(engine)))
    policy = out_ptr()
    check(lib.tg_compile_file(engine, sys.argv[2].encode(), C.byref(policy)))
    print("policy %s version %s (%s)" % (s(lib.tg_policy_name(policy)),
                                         s(lib.tg_policy_version(policy)),
                                         "jit" if lib.tg_policy_jitted(policy) else "interpreter"))
    req, dec, adm = out_ptr(), out_ptr(), out_ptr()
    check(lib.tg_request_create(policy, C.byref(req)))
    check(lib.tg_decision_create(C.byref(dec)))
    check(lib.tg_admission_create(C.byref(adm)))

    def show(label, d):
        if lib.tg_decision_denied(d):
            print("%s: denied: %s" % (label, s(lib.tg_decision_deny_reason(d))))
        else:
            print("%s: route=%s model=%s max_out=%d retry=%d backoff_ms=%d" % (
                label, s(lib.tg_decision_route(d)), s(lib.tg_decision_model(d)),
                lib.tg_decision_max_out(d), lib.tg_decision_retry(d),
                lib.tg_decision_backoff_ms(d)))

    # Pure decisions: by slot (resolved once) and by name.
    slot_user = lib.tg_policy_slot(policy, b"user")
    slot_task = lib.tg_policy_slot(policy, b"task")
    slot_in = lib.tg_policy_slot(policy, b"in_tokens")
    check(lib.tg_request_set_string(req, slot_user, b"carol", 5))
    check(lib.tg_request_set_enum(req, slot_task, b"classify"))
    check(lib.tg_request_set_int(req, slot_in, 300))
    check(lib.tg_decide(req, dec))
    show("classify", dec)
    lib.tg_request_reset(req)
    for name, value in [("user", "carol"), ("task", "chat"), ("in_tokens", "4000"),
                        ("error", "server"), ("attempt", "1")]:
        check(lib.tg_request_set(req, name.encode(), value.encode()))
    check(lib.tg_decide(req, dec))
    show("chat after a 5xx", dec)
    record = json.loads(s(lib.tg_decision_audit_json(dec, req)))
    print("audit rules:", json.dumps(record["rules"]))

    # The bulk path: a batch of requests as one array of tg_value, decided in one FFI call
    # (from Python the per-call cost dominates, so one call for many requests is the fast path).
    n = lib.tg_policy_input_count(policy)
    tasks = [b"classify", b"chat", b"code"]
    batch = (Value * (n * 3))()
    for k, task in enumerate(tasks):
        batch[k * n + slot_user].str, batch[k * n + slot_user].len = b"dave", 4
        batch[k * n + slot_user].set = 1
        batch[k * n + slot_task].i = lib.tg_policy_enum_index(policy, slot_task, task)
        batch[k * n + slot_task].set = 1
        batch[k * n + slot_in].i, batch[k * n + slot_in].set = 1000 * (k + 1), 1
    results = (Result * 3)()
    check(lib.tg_decide_batch(policy, batch, n, 3, 0, results))
    for task, r in zip(tasks, results):
        print("batch %s: route=%s max_out=%d" % (
            task.decode(), "-" if r.denied else s(lib.tg_policy_route_name(policy, r.route)),
            r.max_out))

    try:
        check(lib.tg_request_set(req, b"in_tokens", b"lots"))
    except TollgateError as e:
        print("expected error:", e)

    # Budgets: admit until the daily budget refuses, recording what each call actually used.
    lib.tg_request_reset(req)
    check(lib.tg_request_set(req, b"user", b"dave"))
    check(lib.tg_request_set(req, b"in_tokens", b"3000"))
    admitted = denied = 0
    for i in range(6):
        check(lib.tg_admit(engine, req, 3000, 1024, adm))
        if not lib.tg_admission_admitted(adm):
            denied += 1
            print("call %d denied: %s" % (i, s(lib.tg_admission_reason(adm))))
            continue
        admitted += 1
        show("call %d admitted (estimate $%.5f)" % (i, lib.tg_admission_estimated_cost(adm)),
             lib.tg_admission_decision(adm))
        usage = Usage(3000, 500, 0, -1.0)
        check(lib.tg_record(adm, C.byref(usage)))
    spent = C.c_double()
    check(lib.tg_ledger_spent(engine, policy, b"daily", b"dave", 0, C.byref(spent)))
    print("dave spent $%.5f (%d admitted, %d denied)" % (spent.value, admitted, denied))
    audit = json.loads(s(lib.tg_admission_audit_json(adm, req)))
    print("denied audit: admitted=%s reason=%r budgets=%s" % (
        audit["admitted"], audit.get("reason"),
        [(b["name"], round(b.get("ratio", 0), 3)) for b in audit["budgets"]]))

    # Hot reload through a handle.
    handle = out_ptr()
    check(lib.tg_handle_create(engine, policy, C.byref(handle)))
    bad = b"policy assistant\ndefault route nowhere\n"
    status = lib.tg_handle_reload(handle, bad, len(bad), b"broken.pol")
    print("reload broken ->", s(lib.tg_status_name(status)))
    print(s(lib.tg_last_error()).rstrip())
    with open(sys.argv[2], "rb") as f:
        good = f.read()
    check(lib.tg_handle_reload(handle, good, len(good), sys.argv[2].encode()))
    print("reload good -> generation", lib.tg_handle_generation(handle))
    live = lib.tg_handle_current(handle)
    req2 = out_ptr()
    check(lib.tg_request_create(live, C.byref(req2)))
    check(lib.tg_request_set(req2, b"user", b"erin"))
    check(lib.tg_request_set(req2, b"in_tokens", b"100"))
    check(lib.tg_handle_decide(handle, req2, dec))
    show("after reload", dec)

    lib.tg_request_destroy(req2)
    lib.tg_policy_release(live)
    lib.tg_handle_destroy(handle)
    lib.tg_admission_destroy(adm)
    lib.tg_decision_destroy(dec)
    lib.tg_request_destroy(req)
    lib.tg_policy_release(policy)
    lib.tg_engine_destroy(engine)
    if admitted == 0 or denied == 0 or record["decision"] != "route":
        print("python_host: unexpected results")
        return 1
    print("python_host: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
