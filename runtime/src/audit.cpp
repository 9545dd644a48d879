// Decision records as compact JSON (schema: docs/embedding.md "Audit records"). Hand-written
// rendering into a reused buffer: it runs once per request on the host's hot path.
#include "tollgate/audit.hpp"

#include <fmt/format.h>

#include <cmath>
#include <iterator>

#include "tollgate/ledger.hpp"

namespace tollgate {
namespace {

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or 0 when the bytes there are not one.
size_t utf8_sequence(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  return n;
}

// The one JSON string escaper. Header values and log text can carry any byte, and the output
// must stay valid JSON, so a byte that does not begin a well-formed UTF-8 sequence becomes
// U+FFFD, as nlohmann's error_handler_t::replace does.
void str(std::string* o, std::string_view s) {
  o->push_back('"');
  for (size_t i = 0; i < s.size();) {
    // The common case, a run of printable ASCII, is appended in one piece.
    size_t run = i;
    while (run < s.size()) {
      const unsigned char r = static_cast<unsigned char>(s[run]);
      if (r < 0x20 || r >= 0x80 || r == '"' || r == '\\') break;
      ++run;
    }
    if (run > i) {
      o->append(s.data() + i, run - i);
      i = run;
      if (i == s.size()) break;
    }
    const char c = s[i];
    const unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      const size_t n = utf8_sequence(s, i);
      if (n == 0) {
        o->append("\ufffd");
        ++i;
      } else {
        o->append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        o->append("\\\"");
        break;
      case '\\':
        o->append("\\\\");
        break;
      case '\n':
        o->append("\\n");
        break;
      case '\t':
        o->append("\\t");
        break;
      case '\r':
        o->append("\\r");
        break;
      default:
        if (u < 0x20) {
          fmt::format_to(std::back_inserter(*o), "\\u{:04x}", u);
        } else {
          o->push_back(c);
        }
    }
  }
  o->push_back('"');
}

// Keys are field names and input identifiers ([A-Za-z_][A-Za-z0-9_]*): nothing to escape.
void key(std::string* o, std::string_view k) {
  if (o->back() != '{') o->push_back(',');
  o->push_back('"');
  o->append(k.data(), k.size());
  o->append("\":", 2);
}

void num(std::string* o, int64_t v) {
  const fmt::format_int text(v);  // no format-string parsing: integers are most of a record
  o->append(text.data(), text.size());
}
void num(std::string* o, double v) {
  if (std::isfinite(v)) {
    fmt::format_to(std::back_inserter(*o), "{}", v);
  } else {
    o->append("null");
  }
}
void boolean(std::string* o, bool v) {
  o->append(v ? "true" : "false");
}
void cap(std::string* o, int64_t v) {
  if (v == kNoCap) {
    o->append("null");
  } else {
    num(o, v);
  }
}

void fields(std::string* o, const Policy& p, const Decision& d) {
  key(o, "decision");
  str(o, d.denied ? "deny" : "route");
  if (!d.denied && d.route >= 0 && d.route < static_cast<int>(p.routes().size())) {
    const RouteInfo& r = p.routes()[d.route];
    key(o, "route");
    str(o, r.name);
    key(o, "model");
    str(o, r.model);
  }
  if (d.denied) {
    key(o, "deny_reason");
    str(o, d.deny_reason ? d.deny_reason : "");
  }
  key(o, "max_out");
  cap(o, d.max_out);
  key(o, "max_in");
  cap(o, d.max_in);
  key(o, "retry");
  boolean(o, d.retry);
  key(o, "backoff_ms");
  num(o, d.backoff_ms);
  key(o, "rag");
  boolean(o, d.rag);
  key(o, "top_k");
  num(o, d.top_k);
  key(o, "cache");
  str(o, to_string(d.cache));
  key(o, "tags");
  o->push_back('[');
  for (int i = 0; i < d.tag_count; ++i) {
    if (i) o->push_back(',');
    str(o, d.tag(i));
  }
  o->push_back(']');
  if (d.tags_dropped) {
    key(o, "tags_dropped");
    num(o, static_cast<int64_t>(d.tags_dropped));
  }
}

void rules(std::string* o, const Policy& p, const Decision& d) {
  key(o, "rules");
  o->push_back('{');
  for (int f = 0; f < kFieldCount; ++f) {
    int r = d.rule[f];
    if (r < 0 || r >= static_cast<int>(p.rules().size())) continue;
    key(o, to_string(static_cast<Field>(f)));
    o->append("{\"rule\":");
    num(o, static_cast<int64_t>(r));
    o->append(",\"line\":");
    num(o, static_cast<int64_t>(p.rules()[r].line));
    o->push_back('}');
  }
  o->push_back('}');
  key(o, "errors");
  num(o, static_cast<int64_t>(d.errors));
  if (d.first_error_rule >= 0 && d.first_error_rule < static_cast<int>(p.rules().size())) {
    key(o, "first_error_line");
    num(o, static_cast<int64_t>(p.rules()[d.first_error_rule].line));
  }
}

void budgets(std::string* o, const Policy& p, const AuditContext& ctx, int64_t now) {
  key(o, "budgets");
  o->push_back('[');
  bool first = true;
  for (int b : p.budgets_read()) {
    if (b < 0 || b >= static_cast<int>(p.budgets().size())) continue;
    const BudgetInfo& info = p.budgets()[b];
    if (!first) o->push_back(',');
    first = false;
    o->push_back('{');
    key(o, "name");
    str(o, info.name);
    key(o, "unit");
    str(o, to_string(info.unit));
    key(o, "window");
    str(o, to_string(info.window));
    if (ctx.request == nullptr) {
      o->push_back('}');
      continue;
    }
    std::string k = p.budget_key(b, *ctx.request);
    if (info.key_input >= 0) {
      key(o, "key");
      str(o, k);
    }
    double limit = 0;
    bool has_limit = p.budget_limit(b, *ctx.request, &limit);
    double spent = ctx.budgets ? ctx.budgets->spent(info, k, now) : 0.0;
    key(o, "spent");
    num(o, spent);
    if (has_limit) {
      key(o, "limit");
      num(o, limit);
      key(o, "ratio");
      num(o, limit != 0 ? spent / limit : NAN);
    }
    o->push_back('}');
  }
  o->push_back(']');
}

void render(const Policy& p, const Decision& d, const AuditContext& ctx, const Admission* adm,
            std::string* o) {
  const int64_t now = ctx.now_ms != 0 ? ctx.now_ms : Ledger::wall_clock_ms();
  o->clear();
  o->push_back('{');
  key(o, "v");
  num(o, static_cast<int64_t>(kAuditSchemaVersion));
  key(o, "ts_ms");
  num(o, now);
  key(o, "policy");
  str(o, p.name());
  key(o, "version");
  str(o, p.version_hash());
  key(o, "backend");
  str(o, p.jitted() ? "jit" : "interpreter");
  fields(o, p, d);
  rules(o, p, d);
  budgets(o, p, ctx, now);
  if (adm != nullptr) {
    key(o, "admitted");
    boolean(o, adm->admitted());
    if (!adm->admitted()) {
      key(o, "reason");
      str(o, adm->reason());
    }
  }
  if (ctx.estimated_cost_usd >= 0 || ctx.estimated_tokens >= 0) {
    key(o, "estimate");
    o->push_back('{');
    if (ctx.estimated_tokens >= 0) {
      key(o, "tokens");
      num(o, ctx.estimated_tokens);
    }
    if (ctx.estimated_cost_usd >= 0) {
      key(o, "cost_usd");
      num(o, ctx.estimated_cost_usd);
    }
    o->push_back('}');
  }
  if (ctx.include_inputs && ctx.request != nullptr) {
    key(o, "inputs");
    std::string tmp;
    render_inputs(p, *ctx.request, &tmp);
    o->append(tmp);
  }
  o->push_back('}');
}

}  // namespace

void render_audit(const Policy& policy, const Decision& decision, const AuditContext& ctx,
                  std::string* out) {
  try {
    render(policy, decision, ctx, nullptr, out);
  } catch (...) {
    out->clear();
  }
}

void render_audit(const Admission& a, const Request* request, const BudgetReader* budgets,
                  std::string* out) {
  try {
    if (!a.policy()) {
      out->clear();
      return;
    }
    AuditContext ctx;
    ctx.request = request;
    ctx.budgets = budgets;
    ctx.now_ms = a.now_ms();
    if (a.admitted()) {
      ctx.estimated_cost_usd = a.estimated_cost_usd();
      ctx.estimated_tokens = a.estimated_tokens();
    }
    render(*a.policy(), a.decision(), ctx, &a, out);
  } catch (...) {
    out->clear();
  }
}

void render_decision_fields(const Policy& policy, const Decision& decision, std::string* out) {
  try {
    out->clear();
    out->push_back('{');
    fields(out, policy, decision);
    out->push_back('}');
  } catch (...) {
    out->clear();
  }
}

namespace {

// {"line":L,"rule":R} or null, as decision_json's rule references.
void rule_ref(std::string* o, const Policy& p, int32_t r) {
  if (r < 0 || r >= static_cast<int>(p.rules().size())) {
    o->append("null");
    return;
  }
  o->append("{\"line\":");
  num(o, static_cast<int64_t>(p.rules()[r].line));
  o->append(",\"rule\":");
  num(o, static_cast<int64_t>(r));
  o->push_back('}');
}

}  // namespace

void append_decision_json(const Policy& p, const Decision& d, std::string* o) {
  // Keys in sorted order: the bytes equal nlohmann's dump() of the same object, so `eval --json`
  // (which parses this and pretty-prints it) and serve's compact answers are one shape.
  const bool routed = !d.denied && d.route >= 0 && d.route < static_cast<int>(p.routes().size());
  o->append("{\"backoff_ms\":");
  num(o, d.backoff_ms);
  key(o, "cache");
  str(o, to_string(d.cache));
  key(o, "denied");
  boolean(o, d.denied);
  key(o, "deny_reason");
  if (d.denied) {
    str(o, d.deny_reason ? d.deny_reason : "");
  } else {
    o->append("null");
  }
  key(o, "errors");
  num(o, static_cast<int64_t>(d.errors));
  key(o, "first_error");
  rule_ref(o, p, d.first_error_rule);
  key(o, "max_in");
  cap(o, d.max_in);
  key(o, "max_out");
  cap(o, d.max_out);
  key(o, "model");
  if (routed) {
    str(o, p.routes()[d.route].model);
  } else {
    o->append("null");
  }
  key(o, "rag");
  boolean(o, d.rag);
  key(o, "retry");
  boolean(o, d.retry);
  key(o, "route");
  if (routed) {
    str(o, p.routes()[d.route].name);
  } else {
    o->append("null");
  }
  key(o, "rules");
  o->push_back('{');
  static constexpr Field kSorted[] = {Field::Cache, Field::MaxIn, Field::MaxOut,
                                      Field::Rag,   Field::Retry, Field::Route};
  for (Field f : kSorted) {
    key(o, to_string(f));
    rule_ref(o, p, d.rule[static_cast<int>(f)]);
  }
  o->push_back('}');
  key(o, "tags");
  o->push_back('[');
  for (int i = 0; i < d.tag_count; ++i) {
    if (i) o->push_back(',');
    str(o, d.tag(i));
  }
  o->push_back(']');
  key(o, "tags_dropped");
  num(o, static_cast<int64_t>(d.tags_dropped));
  key(o, "top_k");
  num(o, d.top_k);
  o->push_back('}');
}

void append_policy_json(const Policy& p, std::string* o) {
  o->append("{\"backend\":");
  str(o, p.jitted() ? "jit" : "interpreter");
  key(o, "file");
  str(o, p.file());
  key(o, "name");
  str(o, p.name());
  key(o, "version");
  str(o, p.version_hash());
  o->push_back('}');
}

void append_json_string(std::string_view s, std::string* out) {
  str(out, s);
}

void render_inputs(const Policy& policy, const Request& request, std::string* out) {
  try {
    out->clear();
    out->push_back('{');
    const auto& inputs = policy.inputs();
    const Slot* slots = request.slots();
    for (int i = 0; i < request.size() && i < static_cast<int>(inputs.size()); ++i) {
      const Slot& s = slots[i];
      if (!s.set) continue;
      key(out, inputs[i].name);
      switch (inputs[i].type) {
        case InputType::Bool:
          boolean(out, s.i != 0);
          break;
        case InputType::Int:
          num(out, s.i);
          break;
        case InputType::Float:
          num(out, s.f);
          break;
        case InputType::String:
          str(out, std::string_view(s.str ? s.str : "", s.len));
          break;
        case InputType::Enum:
          if (s.i >= 0 && s.i < static_cast<int64_t>(inputs[i].members.size())) {
            str(out, inputs[i].members[s.i]);
          } else {
            out->append("null");
          }
          break;
      }
    }
    out->push_back('}');
  } catch (...) {
    out->clear();
  }
}

}  // namespace tollgate
